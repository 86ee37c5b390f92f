// Output of turnoutctl; see turnoutctl_print.h.
#include "tools/turnoutctl_print.h"

#include <algorithm>
#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client-lib/names.h"

namespace turnout::tools {
namespace {

using client::EnumShortName;

// Display width of UTF-8 text: code points, so that "José" lines up with "Jose".
size_t Width(absl::string_view text) {
  size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

}  // namespace

std::string Capacity(int64_t capacity) { return capacity == 0 ? "-" : absl::StrCat(capacity); }

std::string FlagNames(const google::protobuf::RepeatedField<int>& flags) {
  return absl::StrJoin(flags, ",", [](std::string* out, int flag) {
    out->append(EnumShortName(static_cast<v1::AttentionFlag>(flag), "ATTENTION_FLAG_"));
  });
}

std::string Choices(const google::protobuf::RepeatedPtrField<v1::SessionChoice>& choices) {
  return absl::StrJoin(choices, "; ", [](std::string* out, const v1::SessionChoice& choice) {
    absl::StrAppend(out, choice.round(), ": ",
                    choice.title().empty() ? choice.session() : choice.title());
    if (!choice.room().empty()) absl::StrAppend(out, " (", choice.room(), ")");
    if (choice.status() == v1::SessionChoice::WAITLISTED) absl::StrAppend(out, " [waitlisted]");
  });
}

void PrintTable(const Table& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], Width(row[c]));
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - Width(row[c]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

void PrintEvent(const v1::Event& event) {
  absl::TimeZone zone = Zone(event.time_zone());
  PrintTable({
      {"name:", event.name()},
      {"title:", event.title()},
      {"venue:", event.venue()},
      {"state:", v1::Event::State_Name(event.state())},
      {"time zone:", event.time_zone()},
      {"doors open:", FormatTime(event.doors_open_time(), zone)},
      {"start:", FormatTime(event.start_time(), zone)},
      {"end:", FormatTime(event.end_time(), zone)},
      {"capacity:", Capacity(event.capacity())},
      {"registered:", absl::StrCat(event.confirmed_count(), " confirmed, ",
                                   event.waitlisted_count(), " waitlisted")},
      {"entrance:", event.entrance_checkpoint()},
      {"re-entry:", event.allow_reentry() ? "allowed" : "not allowed"},
      {"purged:", event.has_purge_time() ? FormatTime(event.purge_time(), zone) : "no"},
  });
}

Table ConfirmationRows(const v1::RegisterResponse& response) {
  Table rows = {{"registration:", response.registration().name()},
                {"status:", v1::Registration::Status_Name(response.registration().status())},
                {"ticket:", response.ticket().code()}};
  if (!response.manage_secret().empty()) {
    rows.push_back({"manage secret:", response.manage_secret()});
    rows.push_back({"", "(shown once: keep it to change or cancel; the ticket code cannot)"});
  }
  return rows;
}

Table ScanResultRows(const v1::ScanResult& result, absl::TimeZone event_zone) {
  Table rows = {{"status:", v1::ScanResult::Status_Name(result.status())},
                {"message:", result.message()}};
  if (!result.display_name().empty()) rows.push_back({"name:", result.display_name()});
  if (!result.attention_flags().empty()) {
    rows.push_back({"flags:", FlagNames(result.attention_flags())});
  }
  if (!result.session_choices().empty()) {
    rows.push_back({"breakouts:", Choices(result.session_choices())});
  }
  if (result.has_first_entry_time()) {
    rows.push_back({"first entry:", absl::StrCat(FormatTime(result.first_entry_time(), event_zone),
                                                 " at ", result.first_entry_checkpoint())});
  }
  if (result.replayed())
    rows.push_back({"replayed:", "yes (answer to an earlier, identical scan)"});
  return rows;
}

void PrintAttendance(const v1::Attendance& attendance) {
  Table rows = {{"CHECKPOINT", "REGISTERED", "CHECKED IN", "INSIDE", "CAPACITY"}};
  for (const v1::CheckpointAttendance& c : attendance.checkpoints()) {
    rows.push_back({c.title().empty() ? c.checkpoint() : c.title(), absl::StrCat(c.registered()),
                    absl::StrCat(c.checked_in()), absl::StrCat(c.inside()),
                    Capacity(c.capacity())});
  }
  PrintTable(rows);
  if (attendance.conflicts() > 0) {
    std::cout << attendance.conflicts()
              << " offline scans were overruled by the server (a door admitted someone another "
                 "door had admitted earlier, say)\n";
  }
}

void PrintKeys(const std::vector<v1::SigningKeyInfo>& keys) {
  Table rows = {{"KEY ID", "ACTIVE", "CREATED", "REVOKED", "PUBLIC KEY"}};
  for (const v1::SigningKeyInfo& k : keys) {
    rows.push_back({absl::StrCat(k.key_id()), k.active() ? "yes" : "no",
                    FormatTime(k.create_time(), absl::LocalTimeZone()),
                    FormatTime(k.revoke_time(), absl::LocalTimeZone()),
                    absl::BytesToHexString(k.public_key())});
  }
  PrintTable(rows);
}

void PrintAuditEntries(const std::vector<v1::AuditEntry>& entries) {
  Table rows = {{"TIME", "ACTOR", "ACTION", "TARGET", "COUNT", "DETAIL"}};
  for (const v1::AuditEntry& e : entries) {
    rows.push_back({FormatTime(e.time(), absl::LocalTimeZone()),
                    e.actor().empty() ? "(server)" : e.actor(),
                    v1::AuditEntry::Action_Name(e.action()), e.target(), absl::StrCat(e.count()),
                    e.detail()});
  }
  PrintTable(rows);
}

}  // namespace turnout::tools
