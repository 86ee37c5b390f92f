// turnout-dash: the big screen. Holds one WatchAttendance stream of an event, whatever the number
// of viewers, and serves a page with the live counts to any browser on the hall's network:
//
//   GET /            the page (?lang=es for Spanish)
//   GET /events      Server-Sent Events: the latest board as JSON on every change, a ping every 15
//   s GET /healthz     200 while the stream is live, else 503; a line of text says which
//
//   turnout-dash --server=127.0.0.1:7443 --token_file=dash.token --event=events/1
//                --listen=0.0.0.0:8080
//
// The stream reconnects by itself (client-lib's AttendanceWatcher); the page says "reconnecting…"
// meanwhile and catches up from the next snapshot. It exits only on a signal or on an error no
// retry can cure (a wrong or revoked token, an event the token may not watch). The contract is in
// docs/design.md, "Live attendance".
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client-lib/attendance_watcher.h"
#include "client-lib/client.h"
#include "client-lib/names.h"
#include "httplib.h"
#include "tools/common/connection.h"
#include "tools/dash/dashboard.h"
#include "tools/dash/page.h"
#include "tools/dash/strings.h"

ABSL_FLAG(std::string, event, "", "the event to show, e.g. events/1");
ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "HTTP address of the page; port 0 picks one (printed on stdout)");
ABSL_FLAG(int, max_viewers, 64, "browsers served at once; more are told to come back later");
ABSL_FLAG(absl::Duration, sample_every, absl::Minutes(1),
          "how often the arrivals line is sampled; it spans 60 samples (shorter for demos)");

namespace turnout::dash {
namespace {

// Idle SSE connections get a ping this often, so that browsers and proxies keep them open and the
// page can tell a dead connection from a quiet hall.
constexpr absl::Duration kPingEvery = absl::Seconds(15);
// Threads of the HTTP server beyond the viewers': the page and /healthz always get one.
constexpr int kSpareThreads = 4;

int signal_pipe[2];

void OnSignal(int) {
  const char byte = 1;
  (void)!write(signal_pipe[1], &byte, 1);
}

// The shared connection flags (tools/common/connection.h); a dashboard needs its token.
absl::StatusOr<std::unique_ptr<client::Client>> ConnectFromFlags() {
  absl::StatusOr<client::ClientOptions> options = tools::ClientOptionsFromFlags();
  if (!options.ok()) return options.status();
  if (options->token.empty()) {
    return absl::InvalidArgumentError(
        "no token: give --token_file with a DASHBOARD token (or $TURNOUT_TOKEN)");
  }
  return client::Client::Connect(*options);
}

// Samples the entrance's arrivals_last_minute every `every`, on whole multiples of it, until
// `stop`; and reads the event's title until it has it. GetAttendance rather than the stream's
// latest message: a quiet stream repeats counts read when the last person arrived, while
// "arrivals in the last minute" falls to 0 as the minute passes.
void SampleArrivals(const client::Client& client, const std::string& event, absl::Duration every,
                    Dashboard& dashboard, absl::Notification& stop) {
  bool have_title = false;
  while (!stop.HasBeenNotified()) {
    if (!have_title) {
      v1::GetEventRequest request;
      request.set_name(event);
      if (absl::StatusOr<v1::Event> e = client.GetEvent(request); e.ok()) {
        dashboard.SetEventTitle(e->title());
        have_title = true;
      }
    }
    v1::GetAttendanceRequest request;
    request.set_event(event);
    if (absl::StatusOr<v1::Attendance> a = client.GetAttendance(request); a.ok()) {
      for (const v1::CheckpointAttendance& c : a->checkpoints()) {
        if (!c.session().empty()) continue;
        dashboard.AddArrivals(absl::Now(), c.arrivals_last_minute());
        break;
      }
    }
    const absl::Time now = absl::Now();
    const absl::Time next = absl::UnixEpoch() + absl::Floor(now - absl::UnixEpoch(), every) + every;
    stop.WaitForNotificationWithTimeout(next - now);
  }
}

// One Server-Sent Events connection: the latest board at once, then each newer one, and a ping
// after kPingEvery of quiet. It holds only the version it sent last; a browser that reads slowly
// skips straight to the latest board.
class EventStream {
 public:
  explicit EventStream(BoardFeed& feed) : feed_(feed) {}

  bool operator()(size_t, httplib::DataSink& sink) {
    std::string out;
    if (seen_ == 0) out = "retry: 1000\n\n";  // how long the browser waits before reconnecting
    std::optional<BoardFeed::Version> next =
        seen_ == 0 ? feed_.Latest() : feed_.WaitNewer(seen_, kPingEvery);
    if (feed_.closed()) {
      sink.done();
      return true;
    }
    if (next.has_value() && next->json != nullptr) {
      seen_ = next->number;
      absl::StrAppend(&out, "data: ", *next->json, "\n\n");
    } else {
      out += "event: ping\ndata: \n\n";
    }
    return sink.write(out.data(), out.size());
  }

 private:
  BoardFeed& feed_;
  uint64_t seen_ = 0;
};

// "host:port" split; port 0 picks a free one.
absl::Status ParseListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: want host:port, got \"", listen, "\""));
  }
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return absl::OkStatus();
}

int Run() {
  const std::string event = client::Qualify("", "events", absl::GetFlag(FLAGS_event));
  if (absl::GetFlag(FLAGS_event).empty()) {
    std::cerr << "turnout-dash: give the event to show: --event=events/1\n";
    return 2;
  }
  std::string host;
  int port = 0;
  if (absl::Status s = ParseListen(absl::GetFlag(FLAGS_listen), host, port); !s.ok()) {
    std::cerr << "turnout-dash: " << s.message() << "\n";
    return 2;
  }
  const int max_viewers = std::max(1, absl::GetFlag(FLAGS_max_viewers));
  const absl::Duration sample_every = absl::GetFlag(FLAGS_sample_every);
  if (sample_every < absl::Seconds(1)) {
    std::cerr << "turnout-dash: --sample_every must be at least 1s\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectFromFlags();
  if (!client.ok()) {
    std::cerr << "turnout-dash: " << client.status().message() << "\n";
    return 2;
  }

  if (pipe(signal_pipe) != 0) return 1;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);

  Dashboard dashboard([] { return absl::Now(); }, sample_every);
  std::atomic<bool> failed{false};
  auto watcher = std::make_unique<client::AttendanceWatcher>(
      **client, event, client::WatcherOptions{},
      [&dashboard](const v1::AttendanceUpdate& update) { dashboard.OnUpdate(update); },
      [&dashboard, &failed](client::WatchState state, const absl::Status& why) {
        std::cerr << "turnout-dash: stream " << client::WatchStateName(state)
                  << (why.ok() ? "" : absl::StrCat(": ", why.ToString())) << "\n";
        dashboard.OnState(state, why);
        if (state == client::WatchState::kFailed) {
          failed = true;
          OnSignal(0);
        }
      });
  absl::Notification stop_sampling;
  std::thread sampler(
      [&] { SampleArrivals(**client, event, sample_every, dashboard, stop_sampling); });

  httplib::Server http;
  std::atomic<int> viewers{0};
  http.new_task_queue = [max_viewers] {
    return new httplib::ThreadPool(max_viewers + kSpareThreads);
  };
  http.set_write_timeout(10, 0);  // a browser that stops reading is dropped, and reconnects
  http.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(RenderPage(LanguageFromParam(req.get_param_value("lang"))),
                    "text/html; charset=utf-8");
  });
  http.Get("/healthz", [&dashboard](const httplib::Request&, httplib::Response& res) {
    const Health health = dashboard.health();
    res.status = health.ok ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(health.text, "text/plain; charset=utf-8");
  });
  http.Get("/events", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    if (viewers.fetch_add(1) >= max_viewers) {
      viewers.fetch_sub(1);
      res.status = 503;
      res.set_header("Retry-After", "10");
      res.set_content("too many viewers\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_chunked_content_provider("text/event-stream", EventStream(dashboard.feed()),
                                     [&viewers](bool) { viewers.fetch_sub(1); });
  });

  if (port == 0) {
    port = http.bind_to_any_port(host);
  } else if (!http.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "turnout-dash: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  std::thread serving([&http] { http.listen_after_bind(); });
  std::cerr << "turnout-dash: showing " << event << " on http://" << host << ":" << port << "/\n";
  std::cout << "listening on port " << port << std::endl;

  char byte;
  while (read(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
  }
  std::cerr << "turnout-dash: shutting down\n";
  dashboard.feed().Close();
  http.stop();
  serving.join();
  stop_sampling.Notify();
  sampler.join();
  watcher.reset();
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace turnout::dash

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the big screen: live attendance of one event in a browser.\n\nusage: turnout-dash "
      "--server=HOST:PORT --token_file=FILE --event=events/1 [--listen=127.0.0.1:8080]");
  absl::ParseCommandLine(argc, argv);
  return turnout::dash::Run();
}
