#include "server/live/pg_notifier.h"

#include <sodium.h>

#include <algorithm>
#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace turnout::live {
namespace {

constexpr char kChannel[] = "turnout_counts";
constexpr absl::Duration kPoll = absl::Milliseconds(200);
constexpr absl::Duration kMinBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);

std::string RandomOrigin() {
  unsigned char bytes[8];
  randombytes_buf(bytes, sizeof(bytes));
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
}

// Payload: "<origin>:<event id>,<event id>...".
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& origin, AttendanceHub* hub)
      : pqxx::notification_receiver(conn, kChannel), origin_(origin), hub_(hub) {}

  void operator()(const std::string& payload, int) override {
    absl::string_view rest = payload;
    const size_t colon = rest.find(':');
    if (colon == absl::string_view::npos || rest.substr(0, colon) == origin_) return;
    rest.remove_prefix(colon + 1);
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      int64_t event_id = 0;
      if (absl::SimpleAtoi(rest.substr(0, comma), &event_id)) hub_->MarkChangedElsewhere(event_id);
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
  }

 private:
  const std::string origin_;
  AttendanceHub* const hub_;
};

}  // namespace

PgNotifier::PgNotifier(std::string connection_string)
    : connection_string_(std::move(connection_string)), origin_(RandomOrigin()) {}

PgNotifier::~PgNotifier() { Stop(); }

void PgNotifier::Start(AttendanceHub* hub) {
  hub_ = hub;
  listener_ = std::thread([this] { Listen(); });
}

void PgNotifier::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (listener_.joinable()) listener_.join();
}

int PgNotifier::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}

void PgNotifier::Listen() {
  absl::Duration backoff = kMinBackoff;
  bool first = true;
  while (!stop_.HasBeenNotified()) {
    try {
      pqxx::connection conn(connection_string_);
      Receiver receiver(conn, origin_, hub_);
      conn.get_notifs();  // LISTEN is sent lazily; make sure it is in place before counting on it
      {
        absl::MutexLock lock(&mu_);
        ++connects_;
      }
      // Anything may have changed while nobody listened.
      if (!first) hub_->MarkAllChanged();
      first = false;
      backoff = kMinBackoff;
      while (!stop_.HasBeenNotified()) {
        conn.await_notification(0, absl::ToInt64Microseconds(kPoll));
        if (!conn.is_open()) throw pqxx::broken_connection("listening connection closed");
      }
    } catch (const std::exception& e) {
      // Retried below; PostgreSQL may be restarting.
    }
    if (stop_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void PgNotifier::Notify(const std::vector<int64_t>& event_ids) {
  const std::string payload = absl::StrCat(origin_, ":", absl::StrJoin(event_ids, ","));
  absl::MutexLock lock(&mu_);
  // A connection that PostgreSQL dropped (a restart) fails only when used: then one more try on a
  // fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (sender_ == nullptr) sender_ = std::make_unique<pqxx::connection>(connection_string_);
      pqxx::nontransaction txn(*sender_);
      txn.exec_params("SELECT pg_notify($1, $2)", kChannel, payload);
      return;
    } catch (const std::exception& e) {
      sender_.reset();
    }
  }
  std::cerr << "turnout-server: telling other replicas about new counts failed; they catch up "
               "when their listener reconnects\n";
}

}  // namespace turnout::live
