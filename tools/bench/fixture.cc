#include "tools/bench/fixture.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "client-lib/client.h"

namespace turnout::bench {
namespace {

namespace v1 = ::turnout::v1;

constexpr int kSetupThreads = 32;

void SetTime(absl::Time t, google::protobuf::Timestamp* ts) {
  ts->set_seconds(absl::ToUnixSeconds(t));
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchDir>> BenchDir::Make(absl::string_view name, bool keep) {
  std::string templ = absl::StrCat("/tmp/turnout-bench-", name, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr || chmod(templ.c_str(), 0755) != 0) {
    return absl::InternalError(
        absl::StrCat("temporary directory ", templ, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<BenchDir>(new BenchDir(std::move(templ), keep));
}

BenchDir::~BenchDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<int64_t> LastId(absl::string_view name) {
  int64_t id = 0;
  const size_t slash = name.rfind('/');
  if (slash == absl::string_view::npos || !absl::SimpleAtoi(name.substr(slash + 1), &id)) {
    return absl::InternalError(absl::StrCat("unexpected resource name \"", name, "\""));
  }
  return id;
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!std::getline(in, token)) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string(absl::StripAsciiWhitespace(token));
}


absl::StatusOr<Fixture> SetUp(const std::string& target, const std::string& admin_token,
                              int count) {
  client::ClientOptions options;
  options.target = target;
  options.token = admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(options);
  if (!admin.ok()) return admin.status();

  Fixture f;
  const absl::Time now = absl::Now();
  v1::CreateEventRequest create;
  v1::Event* e = create.mutable_event();
  e->set_title("turnout-bench check-in");
  e->set_venue("bench");
  e->set_time_zone("UTC");
  SetTime(now - absl::Hours(1), e->mutable_doors_open_time());
  SetTime(now - absl::Minutes(30), e->mutable_start_time());
  SetTime(now + absl::Hours(24), e->mutable_end_time());
  e->set_state(v1::Event::PUBLISHED);
  e->set_allow_reentry(true);
  create.set_request_id(client::NewRequestId());
  absl::StatusOr<v1::Event> event = (*admin)->CreateEvent(create);
  if (!event.ok()) return event.status();
  f.event = event->name();
  absl::StatusOr<int64_t> id = LastId(event->name());
  if (!id.ok()) return id.status();
  f.event_id = *id;
  id = LastId(event->entrance_checkpoint());
  if (!id.ok()) return id.status();
  f.entrance_checkpoint_id = *id;

  v1::CreateDeviceTokenRequest token_request;
  token_request.set_role(v1::ROLE_DOOR);
  token_request.set_event(f.event);
  token_request.set_label("turnout-bench door");
  absl::StatusOr<v1::CreateDeviceTokenResponse> token = (*admin)->CreateDeviceToken(token_request);
  if (!token.ok()) return token.status();
  f.door_token = token->secret();
  id = LastId(token->token().name());
  if (!id.ok()) return id.status();
  f.door_token_id = *id;

  // Registrations, in parallel: each is a durable transaction of its own.
  std::vector<std::pair<int64_t, BenchTicket>> registered(count);
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status failure;
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(kSetupThreads, count); ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        v1::RegisterRequest r;
        r.set_parent(f.event);
        r.mutable_registration()->set_display_name(absl::StrFormat("Bench Attendee %05d", i));
        r.mutable_registration()->set_preferred_language("en");
        r.set_request_id(client::NewRequestId());
        absl::StatusOr<v1::RegisterResponse> done = (*admin)->Register(r);
        absl::StatusOr<int64_t> reg_id = done.ok() ? LastId(done->registration().name())
                                                   : absl::StatusOr<int64_t>(done.status());
        if (reg_id.ok() && done->registration().status() != v1::Registration::CONFIRMED) {
          reg_id = absl::InternalError("a registration was not confirmed");
        }
        if (!reg_id.ok()) {
          absl::MutexLock lock(&mu);
          if (failure.ok()) failure = reg_id.status();
          return;
        }
        registered[i] = {*reg_id, BenchTicket{done->registration().name(), done->ticket().code()}};
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (!failure.ok()) return failure;
  f.register_time = absl::Now() - start;

  // pgbench names registrations by number, so they must be contiguous (a fresh sequence is).
  std::sort(registered.begin(), registered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  f.first_registration_id = registered.front().first;
  for (int i = 0; i < count; ++i) {
    if (registered[i].first != f.first_registration_id + i) {
      return absl::InternalError("registration ids are not contiguous; use a fresh --data_dir");
    }
    f.tickets.push_back(std::move(registered[i].second));
  }
  return f;
}

absl::StatusOr<std::string> NewDoorToken(const std::string& target, const std::string& admin_token,
                                         const std::string& event, const std::string& label) {
  client::ClientOptions options;
  options.target = target;
  options.token = admin_token;
  absl::StatusOr<std::unique_ptr<client::Client>> admin = client::Client::Connect(options);
  if (!admin.ok()) return admin.status();
  v1::CreateDeviceTokenRequest request;
  request.set_role(v1::ROLE_DOOR);
  request.set_event(event);
  request.set_label(label);
  absl::StatusOr<v1::CreateDeviceTokenResponse> token = (*admin)->CreateDeviceToken(request);
  if (!token.ok()) return token.status();
  return token->secret();
}

}  // namespace turnout::bench
