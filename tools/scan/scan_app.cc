// turnout-scan's behaviour; see scan_app.h.
#include "tools/scan/scan_app.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "client-lib/names.h"
#include "client-lib/qr_image.h"
#include "google/protobuf/util/time_util.h"
#include "tools/common/connection.h"
#include "tools/common/time_format.h"
#include "tools/scan/json.h"

namespace turnout::tools::scan {
namespace {

using ::google::protobuf::util::TimeUtil;

// Ticket images are small; anything bigger is not one and is not read into memory.
constexpr int64_t kMaxImageFileBytes = 20 << 20;

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

Tone ToneOf(v1::ScanResult::Status status) {
  switch (status) {
    case v1::ScanResult::ADMITTED:
    case v1::ScanResult::EXIT_RECORDED:
      return Tone::kGo;
    case v1::ScanResult::ALREADY_CHECKED_IN:
      return Tone::kCaution;
    default:
      return Tone::kStop;
  }
}

const char* SourceName(int source) {
  static constexpr const char* kNames[] = {"code", "image", "search", "walk_in"};
  return kNames[source];
}

std::string FlagShortName(int flag) {
  return client::EnumShortName(static_cast<v1::AttentionFlag>(flag), "ATTENTION_FLAG_");
}

// "spanish_interpretation, english_interpretation, ...": what /w accepts.
std::string FlagNames() {
  std::vector<std::string> names;
  for (int flag = 1; flag < v1::AttentionFlag_ARRAYSIZE; ++flag)
    names.push_back(FlagShortName(flag));
  return absl::StrJoin(names, ", ");
}

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

ScanApp::ScanApp(client::DoorEngine& engine, ScanAppOptions options, std::ostream& out)
    : engine_(engine), options_(std::move(options)), render_(options_.render), out_(out) {}

void ScanApp::Start() {
  view_ = View();
  view_.headline = std::string(T(Msg::kReady));
  view_.subtitle = std::string(T(Msg::kReadyHint));
  const client::DoorState state = engine_.State();
  if (!state.damaged_store.empty()) {
    view_.details.push_back(absl::Substitute(T(Msg::kDamagedStore), state.damaged_store));
  }
  Draw();
}

void ScanApp::Resize(int width, int height) {
  render_.width = width;
  render_.height = height;
  Draw();
}

void ScanApp::Tick() {
  if (options_.json) return;
  if (StatusLine(engine_.State()) != drawn_status_) Draw();
}

void ScanApp::OnLine(const Line& line) {
  const Input input = ClassifyLine(line);
  switch (input.kind) {
    case Input::kEmpty:
      return ShowProblem("empty_line", std::string(T(Msg::kEmptyLine)));
    case Input::kTooLong:
      return ShowProblem("line_too_long", absl::Substitute(T(Msg::kLineTooLong), input.bytes),
                         static_cast<int64_t>(input.bytes));
    case Input::kBinary:
      return ShowProblem("binary_input", std::string(T(Msg::kBinaryInput)),
                         static_cast<int64_t>(input.bytes));
    case Input::kImagePath:
      return OnImageFile(input.text);
    case Input::kCommand:
      return OnCommand(input);
    case Input::kCode: {
      client::DoorScan scan;
      scan.code = input.text;
      scan.direction = direction_;
      return Scan(scan, Source::kCode, "");
    }
  }
}

void ScanApp::OnImageFile(const std::string& path) {
  const std::string name = Basename(path);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return ShowProblem("image_unreadable",
                       absl::Substitute(T(Msg::kImageUnreadable), name, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxImageFileBytes) {
    return ShowProblem("image_unreadable", absl::Substitute(T(Msg::kImageUnreadable), name,
                                                            absl::StrCat(st.st_size, " bytes")));
  }
  absl::StatusOr<std::string> bytes = ReadFile(path);
  absl::StatusOr<std::string> code =
      bytes.ok() ? client::ReadQrFromImage(*bytes) : absl::StatusOr<std::string>(bytes.status());
  if (absl::IsNotFound(code.status())) {
    return ShowProblem("image_no_qr", absl::Substitute(T(Msg::kImageNoQr), name));
  }
  if (!code.ok()) {
    return ShowProblem("image_unreadable",
                       absl::Substitute(T(Msg::kImageUnreadable), name, code.status().message()));
  }
  client::DoorScan scan;
  scan.code = std::string(absl::StripAsciiWhitespace(*code));
  scan.direction = direction_;
  Scan(scan, Source::kImage, path);
}

void ScanApp::OnCommand(const Input& input) {
  const std::string& c = input.command;
  if (c == "q") {
    quit_ = true;
  } else if (c == "x") {
    direction_ =
        direction_ == v1::SCAN_DIRECTION_ENTRY ? v1::SCAN_DIRECTION_EXIT : v1::SCAN_DIRECTION_ENTRY;
    const bool exit = direction_ == v1::SCAN_DIRECTION_EXIT;
    ShowInfo(std::string(T(exit ? Msg::kExitMode : Msg::kEntryMode)), "", {},
             JsonLine().Add("kind", "mode").Add("direction", exit ? "exit" : "entry").Finish());
  } else if (c == "f") {
    Search(input.text);
  } else if (AllDigits(c)) {
    size_t number = 0;
    if (!absl::SimpleAtoi(c, &number)) number = 0;
    Pick(number);
  } else if (c == "w") {
    WalkIn(input.text);
  } else if (c == "u") {
    if (absl::Status s = engine_.AnnulLast(); !s.ok()) return ShowEngineError(s);
    ShowInfo("", std::string(T(Msg::kAnnulled)), {},
             JsonLine().Add("kind", "annul").Add("ok", true).Finish());
  } else if (c == "c") {
    Checkpoint(input.text);
  } else if (c == "s") {
    absl::Status s = engine_.SyncNow();
    if (!s.ok()) {
      return ShowProblem("sync_failed", absl::Substitute(T(Msg::kSyncFailed), s.message()));
    }
    ShowInfo("", std::string(T(Msg::kSyncDone)), {},
             JsonLine().Add("kind", "sync").Add("ok", true).Finish());
  } else if (c == "?" || c == "h") {
    ShowInfo("", "", {std::string(T(Msg::kHelp))},
             JsonLine().Add("kind", "help").Add("text", T(Msg::kHelp)).Finish());
  } else {
    ShowProblem("unknown_command", absl::Substitute(T(Msg::kUnknownCommand), Printable(c)));
  }
}

void ScanApp::Scan(const client::DoorScan& scan, Source source, const std::string& file) {
  absl::StatusOr<client::DoorAnswer> answer = engine_.Scan(scan);
  if (!answer.ok()) return ShowEngineError(answer.status());
  ShowAnswer(*answer, source, file);
}

void ScanApp::Search(const std::string& query) {
  if (CodePoints(query) < 3) {
    return ShowProblem("search_too_short", std::string(T(Msg::kSearchTooShort)));
  }
  absl::StatusOr<std::vector<v1::AttendeeMatch>> found = engine_.Search(query);
  if (!found.ok()) return ShowEngineError(found.status());
  matches_ = *std::move(found);
  std::vector<std::string> list;
  std::vector<std::string> json;
  for (size_t i = 0; i < matches_.size(); ++i) {
    const v1::AttendeeMatch& m = matches_[i];
    std::vector<std::string> parts = {absl::StrCat("/", i + 1, "  ", m.display_name())};
    if (m.checked_in()) parts.push_back(std::string(T(Msg::kCheckedIn)));
    if (m.status() != v1::Registration::CONFIRMED) {
      parts.push_back(client::EnumShortName(m.status(), ""));
    }
    std::vector<std::string> flags;
    for (int flag : m.attention_flags()) {
      parts.push_back(
          std::string(FlagText(static_cast<v1::AttentionFlag>(flag), options_.language)));
      flags.push_back(FlagShortName(flag));
    }
    list.push_back(absl::StrJoin(parts, " · "));
    json.push_back(JsonLine()
                       .Add("n", static_cast<int64_t>(i + 1))
                       .Add("registration", m.registration())
                       .Add("display_name", m.display_name())
                       .Add("status", client::EnumShortName(m.status(), ""))
                       .Add("checked_in", m.checked_in())
                       .AddStrings("flags", flags)
                       .Finish());
  }
  if (!matches_.empty()) list.push_back(std::string(T(Msg::kPickHint)));
  const std::string message = absl::Substitute(
      T(matches_.empty() ? Msg::kNoMatches : Msg::kSearchResults), Printable(query));
  ShowInfo(std::string(T(Msg::kSearch)), message, std::move(list),
           JsonLine()
               .Add("kind", "search")
               .Add("query", query)
               .AddRaw("matches", JsonArray(json))
               .Finish());
}

void ScanApp::Pick(size_t number) {
  if (number == 0 || number > matches_.size()) {
    return ShowProblem("no_such_match", absl::Substitute(T(Msg::kNoSuchMatch), number));
  }
  client::DoorScan scan;
  scan.registration = matches_[number - 1].registration();
  scan.direction = direction_;
  Scan(scan, Source::kSearch, "");
}

void ScanApp::WalkIn(const std::string& argument) {
  std::vector<std::string> fields = absl::StrSplit(argument, ';');
  for (std::string& field : fields) absl::StripAsciiWhitespace(&field);
  if (fields.empty() || fields[0].empty() || fields.size() > 3) {
    return ShowProblem("walk_in_usage", absl::Substitute(T(Msg::kWalkInUsage), FlagNames()));
  }
  v1::Registration registration;
  registration.set_display_name(fields[0]);
  if (fields.size() > 1) registration.set_preferred_language(fields[1]);
  if (fields.size() > 2) {
    for (absl::string_view name :
         absl::StrSplit(fields[2], absl::ByAnyChar(", +"), absl::SkipEmpty())) {
      absl::StatusOr<v1::AttentionFlag> flag =
          client::EnumFromShortName<v1::AttentionFlag>(name, "ATTENTION_FLAG_");
      if (!flag.ok()) {
        return ShowProblem(
            "walk_in_usage",
            absl::Substitute(T(Msg::kWalkInBadFlag), Printable(std::string(name)), FlagNames()));
      }
      registration.add_attention_flags(*flag);
    }
  }
  absl::StatusOr<client::DoorAnswer> answer = engine_.WalkIn(registration);
  if (!answer.ok()) return ShowEngineError(answer.status());
  ShowAnswer(*answer, Source::kWalkIn, "");
}

void ScanApp::Checkpoint(const std::string& argument) {
  const std::vector<v1::Checkpoint> checkpoints = engine_.Checkpoints();
  const std::string current = engine_.State().checkpoint.name();
  if (argument.empty()) {
    std::vector<std::string> list;
    std::vector<std::string> json;
    for (size_t i = 0; i < checkpoints.size(); ++i) {
      const v1::Checkpoint& c = checkpoints[i];
      std::string item =
          absl::StrCat(c.name() == current ? "▶ " : "  ", i + 1, "  ", CheckpointTitle(c));
      if (!c.room().empty()) absl::StrAppend(&item, " — ", c.room());
      list.push_back(item);
      json.push_back(JsonLine()
                         .Add("n", static_cast<int64_t>(i + 1))
                         .Add("checkpoint", c.name())
                         .Add("title", CheckpointTitle(c))
                         .Add("room", c.room())
                         .Finish());
    }
    list.push_back(std::string(T(Msg::kCheckpointPickHint)));
    return ShowInfo(
        "", std::string(T(Msg::kCheckpoints)), std::move(list),
        JsonLine().Add("kind", "checkpoints").AddRaw("checkpoints", JsonArray(json)).Finish());
  }
  size_t number = 0;
  if (!absl::SimpleAtoi(argument, &number) || number == 0 || number > checkpoints.size()) {
    return ShowProblem("no_such_checkpoint",
                       absl::Substitute(T(Msg::kNoSuchCheckpoint), Printable(argument)));
  }
  const v1::Checkpoint& chosen = checkpoints[number - 1];
  if (absl::Status s = engine_.SetCheckpoint(chosen.name()); !s.ok()) return ShowEngineError(s);
  ShowInfo("", absl::Substitute(T(Msg::kCheckpointSet), CheckpointTitle(chosen)), {},
           JsonLine()
               .Add("kind", "checkpoint")
               .Add("checkpoint", chosen.name())
               .Add("title", CheckpointTitle(chosen))
               .Finish());
}

void ScanApp::ShowAnswer(const client::DoorAnswer& answer, Source source, const std::string& file) {
  const v1::ScanResult& r = answer.result;
  const Language language = options_.language;
  const client::DoorState state = engine_.State();
  const absl::TimeZone zone = Zone(state.time_zone);

  // Breakouts: the result's choices, with titles and rooms from the bundle when the result has
  // none (an offline answer).
  struct Breakout {
    int round;
    std::string session, title, room;
    bool waitlisted;
  };
  std::vector<Breakout> breakouts;
  for (const v1::SessionChoice& choice : r.session_choices()) {
    Breakout b{choice.round(), choice.session(), choice.title(), choice.room(),
               choice.status() == v1::SessionChoice::WAITLISTED};
    for (const v1::Checkpoint& c : answer.breakouts) {
      if (c.session() != choice.session()) continue;
      if (b.title.empty()) b.title = c.title();
      if (b.room.empty()) b.room = c.room();
    }
    breakouts.push_back(std::move(b));
  }
  if (r.session_choices().empty()) {
    for (const v1::Checkpoint& c : answer.breakouts) {
      breakouts.push_back({0, c.session(), c.title(), c.room(), false});
    }
  }

  std::string first_entry;
  std::string first_entry_rfc3339;
  if (r.has_first_entry_time()) {
    const absl::Time at = ToTime(r.first_entry_time());
    first_entry = FormatClock(at, "%H:%M");
    first_entry_rfc3339 = absl::FormatTime(absl::RFC3339_sec, at, zone);
    for (const v1::Checkpoint& c : engine_.Checkpoints()) {
      if (c.name() == r.first_entry_checkpoint() && c.name() != state.checkpoint.name()) {
        absl::StrAppend(&first_entry, " · ", CheckpointTitle(c));
      }
    }
  }

  if (options_.json) {
    std::vector<std::string> flags, flag_texts, breakout_json;
    for (int flag : r.attention_flags()) {
      flags.push_back(FlagShortName(flag));
      flag_texts.push_back(std::string(FlagText(static_cast<v1::AttentionFlag>(flag), language)));
    }
    for (const Breakout& b : breakouts) {
      breakout_json.push_back(JsonLine()
                                  .Add("round", static_cast<int64_t>(b.round))
                                  .Add("session", b.session)
                                  .Add("title", b.title)
                                  .Add("room", b.room)
                                  .Add("waitlisted", b.waitlisted)
                                  .Finish());
    }
    JsonLine line;
    line.Add("kind", "scan")
        .Add("source", SourceName(static_cast<int>(source)))
        .Add("status", v1::ScanResult::Status_Name(r.status()))
        .Add("admitted", ToneOf(r.status()) == Tone::kGo)
        .Add("message", r.message())
        .Add("display_name", r.display_name())
        .Add("registration", r.registration())
        .AddStrings("flags", flags)
        .AddStrings("flag_texts", flag_texts)
        .AddRaw("breakouts", JsonArray(breakout_json));
    if (!first_entry_rfc3339.empty()) line.Add("first_entry_time", first_entry_rfc3339);
    line.Add("direction", direction_ == v1::SCAN_DIRECTION_EXIT ? "exit" : "entry")
        .Add("checkpoint", state.checkpoint.name())
        .Add("offline", answer.offline)
        .Add("queued", static_cast<int64_t>(state.queued))
        .Add("replayed", r.replayed())
        .Add("client_scan_id", answer.client_scan_id)
        .Add("scan", r.scan());
    if (!file.empty()) line.Add("file", file);
    return Emit(line.Finish());
  }

  view_ = View();
  view_.tone = ToneOf(r.status());
  view_.bell = view_.tone == Tone::kStop;
  view_.headline = std::string(Headline(r.status(), language));
  view_.subtitle = std::string(StatusText(r.status(), language));
  if (!first_entry.empty()) {
    absl::StrAppend(&view_.subtitle, " · ", absl::Substitute(T(Msg::kFirstEntry), first_entry));
  }
  view_.name = r.display_name();
  for (int flag : r.attention_flags()) {
    view_.flags.push_back(std::string(FlagText(static_cast<v1::AttentionFlag>(flag), language)));
  }
  if (!breakouts.empty()) {
    view_.details.push_back(absl::StrCat(T(Msg::kBreakouts), ":"));
    for (const Breakout& b : breakouts) {
      std::string item = "  ";
      if (b.round > 0) absl::StrAppend(&item, absl::Substitute(T(Msg::kRound), b.round), ": ");
      absl::StrAppend(&item, b.title.empty() ? b.session : b.title);
      if (!b.room.empty()) absl::StrAppend(&item, " — ", b.room);
      if (b.waitlisted) absl::StrAppend(&item, " (", T(Msg::kWaitlisted), ")");
      view_.details.push_back(item);
    }
  }
  if (!r.message().empty()) view_.details.push_back(r.message());
  if (answer.offline) view_.details.push_back(std::string(T(Msg::kDecidedOffline)));
  if (r.replayed()) view_.details.push_back(std::string(T(Msg::kReplayed)));
  if (!file.empty()) view_.details.push_back(absl::Substitute(T(Msg::kFromImage), Basename(file)));
  view_.details.push_back(
      absl::Substitute(T(Msg::kScannedAt), FormatClock(options_.now(), "%H:%M:%S")));
  Draw();
}

void ScanApp::ShowInfo(const std::string& headline, const std::string& message,
                       std::vector<std::string> list, const std::string& json) {
  if (options_.json) return Emit(json);
  view_ = View();
  view_.headline = headline;
  view_.subtitle = message;
  view_.list = std::move(list);
  Draw();
}

void ScanApp::ShowProblem(const std::string& error, const std::string& message, int64_t bytes) {
  if (options_.json) {
    JsonLine line;
    line.Add("kind", "error").Add("error", error).Add("message", message);
    if (bytes >= 0) line.Add("bytes", bytes);
    return Emit(line.Finish());
  }
  view_ = View();
  view_.tone = Tone::kStop;
  view_.bell = error != "empty_line";  // a stray Enter is no reason to ring
  view_.headline = std::string(T(Msg::kTryAgain));
  view_.subtitle = message;
  Draw();
}

void ScanApp::ShowEngineError(const absl::Status& status) {
  if (options_.json) {
    return Emit(JsonLine()
                    .Add("kind", "error")
                    .Add("error", "engine")
                    .Add("code", absl::StatusCodeToString(status.code()))
                    .Add("message", status.message())
                    .Finish());
  }
  view_ = View();
  view_.tone = Tone::kStop;
  view_.bell = true;
  view_.headline = std::string(T(Msg::kError));
  view_.subtitle = absl::Substitute(T(Msg::kDidNotWork), status.message());
  Draw();
}

std::string ScanApp::CheckpointTitle(const v1::Checkpoint& checkpoint) const {
  // The entrance is named in the door's language; rooms by their session's title.
  if (checkpoint.session().empty()) return std::string(T(Msg::kEntrance));
  return checkpoint.title().empty() ? checkpoint.name() : checkpoint.title();
}

std::string ScanApp::FormatClock(absl::Time time, const char* format) const {
  return absl::FormatTime(format, time, Zone(engine_.State().time_zone));
}

std::string ScanApp::StatusLine(const client::DoorState& state) const {
  std::vector<std::string> parts;
  parts.push_back(absl::StrCat(
      "[", T(direction_ == v1::SCAN_DIRECTION_EXIT ? Msg::kExitMode : Msg::kEntryMode), "]"));
  parts.push_back(CheckpointTitle(state.checkpoint));
  parts.push_back(std::string(T(state.online ? Msg::kOnline : Msg::kOffline)));
  parts.push_back(absl::Substitute(T(Msg::kQueued), state.queued));
  parts.push_back(
      absl::Substitute(T(Msg::kLastSync), state.last_sync == absl::InfinitePast()
                                              ? std::string(T(Msg::kNever))
                                              : FormatClock(state.last_sync, "%H:%M:%S")));
  parts.push_back(state.capacity > 0
                      ? absl::Substitute(T(Msg::kInsideOf), state.inside, state.capacity)
                      : absl::Substitute(T(Msg::kInside), state.inside));
  if (!state.last_error.empty()) {
    parts.push_back(absl::Substitute(T(Msg::kSyncError), state.last_error));
  }
  return absl::StrJoin(parts, " · ");
}

void ScanApp::Draw() {
  if (options_.json) return;
  drawn_status_ = StatusLine(engine_.State());
  view_.status = drawn_status_;
  view_.prompt = std::string(T(Msg::kPrompt));
  out_ << Render(view_, render_);
  out_.flush();
  view_.bell = false;  // a redraw for the status line does not ring again
}

void ScanApp::Emit(const std::string& json_line) {
  out_ << json_line << "\n";
  out_.flush();
}

}  // namespace turnout::tools::scan
