// A DoorEngine for tests of door UIs (turnout-scan): answers scans from a table set by the test,
// records every call, and reports whatever DoorState the test sets. No server, no store, no
// threads.
//
//   FakeDoorEngine door;
//   door.answers["CODE"] = Admitted("Ana García");
//   ScanApp app(door, options, out);
//   app.OnLine(...);
//   EXPECT_EQ(door.scans[0].code, "CODE");
#ifndef TURNOUT_TESTS_SUPPORT_FAKE_DOOR_ENGINE_H_
#define TURNOUT_TESTS_SUPPORT_FAKE_DOOR_ENGINE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client-lib/door_engine.h"

namespace turnout::testing {

class FakeDoorEngine : public client::DoorEngine {
 public:
  // Scans of a code or registration found here get its answer; others get INVALID. An error set
  // in scan_error is returned instead.
  std::map<std::string, client::DoorAnswer> answers;
  absl::Status scan_error;
  std::vector<client::DoorScan> scans;

  int annulments = 0;
  absl::Status annul_error;

  std::vector<std::string> searches;
  std::vector<v1::AttendeeMatch> matches;

  std::vector<v1::Registration> walk_ins;
  client::DoorAnswer walk_in_answer;

  std::vector<v1::Checkpoint> checkpoints;
  int syncs = 0;
  absl::Status sync_error;

  client::DoorState state;

  absl::StatusOr<client::DoorAnswer> Scan(const client::DoorScan& scan) override {
    scans.push_back(scan);
    if (!scan_error.ok()) return scan_error;
    auto found = answers.find(scan.code.empty() ? scan.registration : scan.code);
    client::DoorAnswer answer;
    if (found != answers.end()) {
      answer = found->second;
    } else {
      answer.result.set_status(v1::ScanResult::INVALID);
      answer.result.set_message("Not a valid ticket.");
    }
    answer.client_scan_id = absl::StrCat("scan-", scans.size());
    return answer;
  }

  absl::Status AnnulLast() override {
    ++annulments;
    return annul_error;
  }

  absl::StatusOr<std::vector<v1::AttendeeMatch>> Search(const std::string& query) override {
    searches.push_back(query);
    return matches;
  }

  absl::StatusOr<client::DoorAnswer> WalkIn(const v1::Registration& registration) override {
    walk_ins.push_back(registration);
    return walk_in_answer;
  }

  absl::Status SetCheckpoint(const std::string& checkpoint) override {
    for (const v1::Checkpoint& c : checkpoints) {
      if (c.name() == checkpoint || (checkpoint.empty() && c.session().empty())) {
        state.checkpoint = c;
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError(absl::StrCat("no checkpoint ", checkpoint));
  }

  std::vector<v1::Checkpoint> Checkpoints() const override { return checkpoints; }

  absl::Status SyncNow() override {
    ++syncs;
    return sync_error;
  }

  client::DoorState State() const override { return state; }
};

}  // namespace turnout::testing

#endif  // TURNOUT_TESTS_SUPPORT_FAKE_DOOR_ENGINE_H_
