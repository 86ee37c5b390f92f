#include "tools/bench/pgbench_replay.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/domain/scan_rules.h"
#include "server/store/scan_queries.h"

extern char** environ;

namespace turnout::bench {
namespace {

namespace fs = std::filesystem;

// One statement of the replayed transaction and the pgbench variables bound to its $1..$n.
struct Step {
  const store::Query& query;
  std::vector<std::string> args;
};

// What turnout-server runs for a scan that arrives alone (PgScanStore::RecordScans with a batch of
// one, the path of every scan: a batch of n runs the same statements with n-element arrays), for a
// first online ENTRY at the entrance that is ADMITTED (and, statement for statement, for any later
// accepted ENTRY or EXIT): keep in step with scan_store.cc. "[x]" binds the one-element array of
// variable x (ARRAY[:x]), "[NULL]" the array of one NULL. checkpoint_lock and
// checkpoint_inside_count run only for capacity-limited session rooms.
std::vector<Step> RecordScanSteps(bool by_code) {
  namespace q = store::scan_queries;
  return {
      {q::kBatchLookup,
       {"[event]", "[checkpoint_requested]", "published", "[device]", "[csid]",
        by_code ? "[event]" : "[NULL]", by_code ? "[tid]" : "[NULL]", by_code ? "[none]" : "[reg]"}},
      {q::kBatchChoices, {"[event]", "[reg]"}},
      {q::kBatchPresence, {"[event]", "[cp]", "[reg]"}},
      {q::kBatchRecord,
       {"[event]",  "[cp]",     "[reg]",          "[device]",    "[csid]",   "[direction]",
        "[at]",     "[offline]", "[status]",      "[device_status]", "[first_entry]", "[digest]",
        "[empty]",  "[code_length]", "[empty]",   "[at]",        "[event]",  "[cp]",
        "[reg]",    "[ever_admitted]", "[inside]", "[at]",       "[at]",     "[at]"}},
  };
}

absl::StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path.string()));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "tps = 1234.5 (without initial connection time)" -> 1234.5 for prefix "tps = ".
bool NumberAfter(absl::string_view line, absl::string_view prefix, double* out) {
  if (!absl::ConsumePrefix(&line, prefix)) return false;
  return absl::SimpleAtod(line.substr(0, line.find_first_of(" /(")), out);
}

}  // namespace

absl::StatusOr<std::string> SubstituteParams(absl::string_view sql,
                                             const std::vector<std::string>& args) {
  std::string out;
  std::vector<bool> used(args.size(), false);
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] != '$' || i + 1 >= sql.size() || !absl::ascii_isdigit(sql[i + 1])) {
      out += sql[i++];
      continue;
    }
    size_t end = i + 1;
    while (end < sql.size() && absl::ascii_isdigit(sql[end])) ++end;
    int n = 0;
    if (!absl::SimpleAtoi(sql.substr(i + 1, end - i - 1), &n) || n < 1 ||
        n > static_cast<int>(args.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("the statement refers to ", sql.substr(i, end - i),
                       " but the replay binds only ", args.size(), " parameters"));
    }
    used[n - 1] = true;
    const std::string& arg = args[n - 1];
    if (arg.size() > 2 && arg.front() == '[' && arg.back() == ']') {
      const std::string element = arg.substr(1, arg.size() - 2);
      absl::StrAppend(&out, "ARRAY[", element == "NULL" ? "" : ":", element, "]");
    } else {
      absl::StrAppend(&out, ":", arg);
    }
    i = end;
  }
  for (size_t k = 0; k < used.size(); ++k) {
    if (!used[k]) {
      return absl::InvalidArgumentError(absl::StrCat("the statement never uses $", k + 1, " (",
                                                     args[k], ") that the replay binds"));
    }
  }
  return out;
}

absl::StatusOr<ReplayScript> BuildScanReplay(const ReplayParams& p) {
  if (p.clients < 1 || p.registrations < p.clients) {
    return absl::InvalidArgumentError("need at least one registration per pgbench client");
  }
  const bool by_code = !p.ticket_id_hex.empty();
  ReplayScript script;
  // What the server binds, as the text pqxx sends: ids, and bools as "true"/"false".
  script.defines = {
      absl::StrCat("event=", p.event_id),
      absl::StrCat("device=", p.device_id),
      "checkpoint_requested=0",  // the ScanRequest names no checkpoint: the entrance
      absl::StrCat("cp=", p.entrance_checkpoint_id),
      absl::StrCat("first_reg=", p.first_registration_id),
      absl::StrCat("per_client=", p.registrations / p.clients),
      "k=0",
      absl::StrCat("direction=", domain::Stored(domain::Direction::kEntry)),
      absl::StrCat("published=", domain::Stored(domain::EventState::kPublished)),
      absl::StrCat("at=", p.scanned_at_us),
      "offline=false",
      absl::StrCat("status=", domain::Stored(domain::ScanStatus::kAdmitted)),
      "device_status=0",  // online scan
      "first_entry=-1",
      "ever_admitted=true",
      "inside=true",
      "accepted=true",
      "code_length=0",  // an accepted scan keeps no trace of its code
      "none=0",         // no registration searched: the code names it
      // A keyed digest of what was scanned, as the server stores it (its value does not matter).
      "digest=5f1c0de5a1b2c3d4e5f60718293a4b5c",
  };
  if (by_code) script.defines.push_back(absl::StrCat("tid=", p.ticket_id_hex));

  // Each client walks its own slice of registrations; variables persist across a client's
  // transactions, so k counts them. pgbench -D cannot define an empty string, so each client
  // fetches one ('' for an accepted scan's code hash and header) once, in its first transaction.
  script.text =
      "\\set k :k + 1\n"
      "\\set reg :first_reg + :client_id * :per_client + mod(:k, :per_client)\n"
      "\\set csid random(1000000000000000000, 9000000000000000000)\n"
      "\\if :k = 1\n"
      "SELECT '' AS empty \\gset\n"
      "\\endif\n"
      "BEGIN;\n";
  script.labels = {"\\set k (per-client counter)",
                   "\\set reg",
                   "\\set csid (client_scan_id)",
                   "\\if (first transaction of a client)",
                   "SELECT '' AS empty \\gset (once per client)",
                   "\\endif",
                   "BEGIN"};
  for (const Step& step : RecordScanSteps(by_code)) {
    absl::StatusOr<std::string> replayed = SubstituteParams(step.query.sql, step.args);
    if (!replayed.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(step.query.name, ": ", replayed.status().message()));
    }
    absl::StrAppend(&script.text, absl::StripAsciiWhitespace(*replayed), ";\n");
    script.labels.push_back(step.query.name);
  }
  absl::StrAppend(&script.text, "COMMIT;\n");
  script.labels.push_back("COMMIT");
  return script;
}

absl::StatusOr<ReplayScript> BuildMinimalCheckin(const ReplayParams& p) {
  if (p.clients < 1 || p.registrations < p.clients) {
    return absl::InvalidArgumentError("need at least one registration per pgbench client");
  }
  ReplayScript script;
  script.defines = {
      absl::StrCat("event=", p.event_id),
      absl::StrCat("device=", p.device_id),
      absl::StrCat("cp=", p.entrance_checkpoint_id),
      absl::StrCat("first_reg=", p.first_registration_id),
      absl::StrCat("per_client=", p.registrations / p.clients),
      "k=0",
      absl::StrCat("entry=", domain::Stored(domain::Direction::kEntry)),
      absl::StrCat("admitted=", domain::Stored(domain::ScanStatus::kAdmitted)),
  };
  script.text =
      "\\set k :k + 1\n"
      "\\set reg :first_reg + :client_id * :per_client + mod(:k, :per_client)\n"
      "\\set csid random(1000000000000000000, 9000000000000000000)\n"
      "BEGIN;\n"
      "INSERT INTO scans (event_id, checkpoint_id, registration_id, device_id, client_scan_id, "
      "direction, scanned_time, status) "
      "VALUES (:event, :cp, :reg, :device, :csid, :entry, now(), :admitted);\n"
      "INSERT INTO presence (event_id, checkpoint_id, registration_id, ever_admitted, inside, "
      "first_entry_time, last_change_time, last_scan_time) "
      "VALUES (:event, :cp, :reg, true, true, now(), now(), now()) "
      "ON CONFLICT (event_id, checkpoint_id, registration_id) DO UPDATE SET "
      "inside = NOT presence.inside, last_change_time = now(), last_scan_time = now();\n"
      "COMMIT;\n";
  script.labels = {"\\set k (per-client counter)",
                   "\\set reg",
                   "\\set csid (client_scan_id)",
                   "BEGIN",
                   "INSERT scan",
                   "upsert presence",
                   "COMMIT"};
  return script;
}

absl::StatusOr<PgbenchResult> RunPgbench(const PgbenchOptions& o, const ReplayScript& script) {
  const fs::path dir = o.work_dir;
  const fs::path script_path = dir / "scan_replay.pgbench";
  const fs::path output_path = dir / "pgbench.out";
  const fs::path log_prefix = dir / "pgbench_log";
  {
    std::ofstream out(script_path, std::ios::trunc);
    out << script.text;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", script_path.string()));
  }
  std::vector<std::string> args = {o.pgbench,
                                   "-n",
                                   "-c",
                                   absl::StrCat(o.clients),
                                   "-j",
                                   absl::StrCat(o.threads),
                                   "-T",
                                   absl::StrCat(o.seconds),
                                   "-M",
                                   "prepared",
                                   "-r",
                                   "-l",
                                   absl::StrCat("--log-prefix=", log_prefix.string()),
                                   "-f",
                                   script_path.string(),
                                   "-h",
                                   o.host,
                                   "-p",
                                   o.port,
                                   "-U",
                                   o.user};
  for (const std::string& d : script.defines) {
    args.push_back("-D");
    args.push_back(d);
  }
  args.push_back(o.dbname);

  PgbenchResult result;
  result.command_line = absl::StrJoin(args, " ");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot run ", o.pgbench, ": ", std::strerror(spawned)));
  }
  int wstatus = 0;
  struct rusage usage {};
  while (wait4(pid, &wstatus, 0, &usage) < 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("wait4: ", std::strerror(errno)));
  }
  result.cpu_seconds = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                       usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  absl::StatusOr<std::string> output = ReadWholeFile(output_path);
  if (!output.ok()) return output.status();
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return absl::InternalError(
        absl::StrCat("pgbench failed (", result.command_line, "):\n", *output));
  }

  // The summary, then "statement latencies in milliseconds and failures:" with one line per
  // script command, in script order.
  bool in_statements = false;
  size_t statement_index = 0;
  bool have_tps = false;
  for (absl::string_view line : absl::StrSplit(*output, '\n')) {
    double number = 0;
    if (in_statements) {
      std::vector<absl::string_view> fields = absl::StrSplit(
          absl::StripLeadingAsciiWhitespace(line), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (fields.empty() || !absl::SimpleAtod(fields[0], &number)) continue;
      const std::string label = statement_index < script.labels.size()
                                    ? script.labels[statement_index]
                                    : std::string(absl::StripAsciiWhitespace(line));
      result.statements.push_back({label, number});
      ++statement_index;
      continue;
    }
    if (absl::StartsWith(line, "statement latencies")) {
      in_statements = true;
    } else if (NumberAfter(line, "tps = ", &number)) {
      result.tps = number;
      have_tps = true;
    } else if (NumberAfter(line, "latency average = ", &number)) {
      result.latency_avg_ms = number;
    } else if (NumberAfter(line, "number of transactions actually processed: ", &number)) {
      result.transactions = static_cast<int64_t>(number);
    } else if (NumberAfter(line, "number of failed transactions: ", &number)) {
      result.failed = static_cast<int64_t>(number);
    }
  }
  if (!have_tps) {
    return absl::InternalError(absl::StrCat("no tps in pgbench's output:\n", *output));
  }

  // -l: one line per transaction, "client_id transaction_no time_us script_no epoch epoch_us";
  // a failed transaction has "failed" (or similar) in place of the time.
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (!absl::StartsWith(entry.path().filename().string(), "pgbench_log.")) continue;
    absl::StatusOr<std::string> log = ReadWholeFile(entry.path());
    if (!log.ok()) return log.status();
    for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      Sample sample;
      int64_t epoch_s = 0, epoch_us = 0;
      if (fields.size() >= 6 && absl::SimpleAtoi(fields[2], &sample.latency_us) &&
          absl::SimpleAtoi(fields[4], &epoch_s) && absl::SimpleAtoi(fields[5], &epoch_us)) {
        sample.end_us = epoch_s * 1000000 + epoch_us;
        result.samples.push_back(sample);
      }
    }
    fs::remove(entry.path(), ec);
  }
  return result;
}

}  // namespace turnout::bench
