// A reference model of one Turnout event for the randomized model test (model_test.cc): who is
// registered and waitlisted, who is inside where, the counts of every checkpoint, and the status
// each scan should get. It is written from the rules in README.md ("The scanning rules") and the
// contract listed in model_test.cc, not from the server's code, and it is kept deliberately plain:
// a list of scans, replayed from the start whenever a question is asked.
//
//   Model model(program);
//   model.Register(/*reg=*/0, {Place::kB1}, {code, key_id});
//   PresentedCode ticket{PresentedCode::Kind::kThisEvent, /*reg=*/0, /*code_index=*/0};
//   ScanStatus s = model.Scan(/*label=*/0, ticket, Place::kEntrance, Direction::kEntry, t, 1);
//   Model::Counts c = model.CountsAt(Place::kEntrance);  // registered 1, checked_in 1, inside 1
#ifndef TURNOUT_TESTS_INTEGRATION_MODEL_REFERENCE_MODEL_H_
#define TURNOUT_TESTS_INTEGRATION_MODEL_REFERENCE_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/integration/model/operation.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::testing::model {

using ScanStatus = ::turnout::v1::ScanResult::Status;
using RegistrationStatus = ::turnout::v1::Registration::Status;

// The event and its sessions as the test creates them.
struct Program {
  struct Session {
    absl::Time start;
    absl::Time end;
    int capacity = 0;  // 0: unlimited
  };
  absl::Time doors_open;
  absl::Time start;
  absl::Time end;
  int capacity = 0;                   // confirmed registrations; 0: unlimited
  std::map<Place, Session> sessions;  // the plenary and the breakouts
};

// The code a scan presents, as the model sees it.
struct PresentedCode {
  enum class Kind { kGarbage, kThisEvent, kOtherEvent };
  Kind kind = Kind::kGarbage;
  int reg = -1;         // kThisEvent: the registration
  int code_index = -1;  // kThisEvent: which of its codes (Model::Registration::codes)
  uint32_t key_id = 0;  // kOtherEvent: the key that signed it
};

class Model {
 public:
  // A ticket code the server issued; `superseded` once a reissue replaced it.
  struct Code {
    std::string text;
    uint32_t key_id = 0;
    bool superseded = false;
  };
  // A breakout choice; waitlisted until `confirmed`. `chosen` orders the waitlist.
  struct Choice {
    Place session = Place::kB1;
    bool confirmed = false;
    int64_t chosen = 0;
  };
  struct Registration {
    RegistrationStatus status = ::turnout::v1::Registration::CONFIRMED;
    std::vector<Choice> choices;  // at most one per round
    std::vector<Code> codes;      // in issue order; the last is the current one
  };
  // One scan as the server answered it when it arrived. `reg` is -1 for codes that name no
  // registration of this event.
  struct ScanRecord {
    int label = 0;
    int reg = -1;
    Place place = Place::kEntrance;
    Direction direction = Direction::kEntry;
    absl::Time at;
    int device = 1;
    ScanStatus status = ::turnout::v1::ScanResult::INVALID;
    bool annulled = false;
  };
  struct Counts {
    int64_t registered = 0;
    int64_t checked_in = 0;
    int64_t inside = 0;
    int64_t capacity = 0;
  };

  explicit Model(const Program& program);

  // Registrations. Labels are handed out in creation order, which is also the server's id order.
  void Register(int reg, const std::vector<Place>& choices, const Code& code);
  void Cancel(int reg);
  // Replaces the codes of `reg` by `code`. A canceled registration gets no new ticket: false, and
  // nothing changes.
  bool Reissue(int reg, const Code& code);
  // Replaces the breakout choices. False for a canceled registration, and nothing changes.
  bool ChooseSessions(int reg, const std::vector<Place>& choices);
  // A code GetTicket handed out in place of one whose key was revoked.
  void AddCode(int reg, const Code& code);
  bool Has(int reg) const { return registrations_.count(reg) > 0; }
  const Registration& registration(int reg) const { return registrations_.at(reg); }
  const std::map<int, Registration>& registrations() const { return registrations_; }

  // The event and its sessions.
  void SetCapacity(Place place, int capacity);  // the entrance: the event's capacity
  void MoveEvent(absl::Duration by);
  // PUBLISHED, or back to DRAFT: a draft admits nobody.
  void SetPublished(bool published) { published_ = published; }
  bool published() const { return published_; }
  const Program& program() const { return program_; }
  absl::Time doors_open() const { return program_.doors_open; }

  // Signing keys.
  void RevokeKey(uint32_t key_id) { revoked_keys_.insert(key_id); }
  bool KeyRevoked(uint32_t key_id) const { return revoked_keys_.count(key_id) > 0; }

  // Decides a new scan, records it as scan `label` and returns its status.
  ScanStatus Scan(int label, const PresentedCode& code, Place place, Direction direction,
                  absl::Time at, int device);
  // Removes a scan from presence and counts (it stays recorded).
  void Annul(int label);
  // The scan with this label, or nullptr.
  const Model::ScanRecord* FindScan(int label) const;
  // A scan's answer now: a scan that takes part in its ticket's presence is re-decided in
  // canonical order whenever an earlier one arrives late or is annulled; other answers are final.
  // For an annulled scan, nullopt: its answer is the one it had when it was annulled.
  std::optional<ScanStatus> CurrentStatus(int label) const;
  const std::vector<Model::ScanRecord>& scans() const { return scans_; }

  Counts CountsAt(Place place) const;

 private:
  struct Presence {
    bool ever_admitted = false;
    bool inside = false;
  };

  ScanStatus Decide(const PresentedCode& code, Place place, Direction direction,
                    absl::Time at) const;
  bool InWindow(Place place, absl::Time at) const;
  // Replays the scans of `reg` at `place` that take part in presence, in canonical order, up to
  // and including those made at `until`.
  Presence Replay(int reg, Place place, absl::Time until = absl::InfiniteFuture()) const;
  int CapacityOf(Place place) const;
  int64_t ConfirmedRegistrations() const;
  int64_t ConfirmedChoices(Place session) const;
  void PromoteRegistrations();
  void PromoteChoices(Place session);

  Program program_;
  std::map<int, Registration> registrations_;
  std::vector<Model::ScanRecord> scans_;  // in arrival order
  std::set<uint32_t> revoked_keys_;
  bool published_ = true;
  int64_t changes_ = 0;  // orders the breakout choices
};

}  // namespace turnout::testing::model

#endif  // TURNOUT_TESTS_INTEGRATION_MODEL_REFERENCE_MODEL_H_
