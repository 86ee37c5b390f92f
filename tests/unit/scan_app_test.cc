// turnout-scan's behaviour with a fake DoorEngine: what the volunteer sees for each verdict, the
// keys, bad input, JSON lines, images, and the input loop on a pipe.
#include "tools/scan/scan_app.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "server/domain/qr.h"
#include "tests/support/fake_door_engine.h"
#include "tools/scan/loop.h"
#include "tools/scan/state_dir.h"
#include "tools/scan/watch_dir.h"

namespace turnout::tools::scan {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using ::testing::Not;
using ::turnout::testing::FakeDoorEngine;

constexpr char kAna[] =
    "ANACODEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    "A"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

Line L(const std::string& text) { return Line{text, text.size()}; }

// 2015-10-15 15:31 UTC is 08:31 in Oakland.
google::protobuf::Timestamp At(const char* rfc3339) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(TimeUtil::FromString(rfc3339, &t));
  return t;
}

v1::Checkpoint MakeCheckpoint(const std::string& id, const std::string& title,
                              const std::string& session, const std::string& room) {
  v1::Checkpoint c;
  c.set_name("events/1/checkpoints/" + id);
  c.set_title(title);
  c.set_session(session);
  c.set_room(room);
  return c;
}

client::DoorAnswer Answer(v1::ScanResult::Status status, const std::string& name) {
  client::DoorAnswer answer;
  answer.result.set_status(status);
  answer.result.set_display_name(name);
  answer.result.set_registration("events/1/registrations/7");
  return answer;
}

class ScanAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    door_.state.online = true;
    door_.state.time_zone = "America/Los_Angeles";
    door_.state.inside = 12;
    door_.state.capacity = 300;
    door_.checkpoints = {
        MakeCheckpoint("1", "Entrance", "", ""),
        MakeCheckpoint("2", "Legislative advocacy", "events/1/sessions/2", "Ginn House"),
        MakeCheckpoint("3", "Workers' rights", "events/1/sessions/3", "Bishop House")};
    door_.state.checkpoint = door_.checkpoints[0];

    client::DoorAnswer ana = Answer(v1::ScanResult::ADMITTED, "Ana García");
    ana.result.add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
    ana.result.add_attention_flags(v1::ATTENTION_FLAG_DIETARY);
    v1::SessionChoice* choice = ana.result.add_session_choices();
    choice->set_session("events/1/sessions/2");
    choice->set_round(1);
    ana.breakouts = {door_.checkpoints[1]};  // title and room from the bundle, as offline
    door_.answers[kAna] = ana;
  }

  // A new app on a fresh output; JSON or a plain (colourless) screen, or colour.
  ScanApp& App(Language language = Language::kEnglish, bool json = false, bool colour = false) {
    ScanAppOptions options;
    options.language = language;
    options.json = json;
    options.render.colour = colour;
    options.now = [] { return absl::FromUnixSeconds(1444923062); };  // 2015-10-15 08:31:02 PDT
    out_.str("");
    app_ = std::make_unique<ScanApp>(door_, options, out_);
    return *app_;
  }

  // What the app wrote since the last call.
  std::string Out() {
    std::string text = out_.str();
    out_.str("");
    return text;
  }

  // The JSON lines written since the last call, parsed.
  std::vector<google::protobuf::Struct> JsonOut() {
    std::vector<google::protobuf::Struct> parsed;
    for (absl::string_view line : absl::StrSplit(Out(), '\n', absl::SkipEmpty())) {
      google::protobuf::Struct object;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &object).ok())
          << line;
      for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
      parsed.push_back(object);
    }
    return parsed;
  }

  std::string TempPath(const std::string& name) {
    return std::string(::testing::TempDir()) + "/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + name;
  }

  FakeDoorEngine door_;
  std::ostringstream out_;
  std::unique_ptr<ScanApp> app_;
};

TEST_F(ScanAppTest, StartsReadyWithTheStatusLine) {
  App().Start();
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("[ENTRY] · Entrance · online · 0 queued · last sync never · "
                                "12 inside of 300"));
  EXPECT_THAT(screen, HasSubstr("Scan a ticket, or type /? for help"));
}

TEST_F(ScanAppTest, AdmittedShowsNameFlagsAndBreakoutsInGreen) {
  App(Language::kEnglish, false, /*colour=*/true).OnLine(L(kAna));
  ASSERT_EQ(door_.scans.size(), 1u);
  EXPECT_EQ(door_.scans[0].code, kAna);
  EXPECT_EQ(door_.scans[0].direction, v1::SCAN_DIRECTION_ENTRY);
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("\x1b[1;97;42m"));  // green
  EXPECT_THAT(screen, Not(HasSubstr("\a")));
  EXPECT_THAT(screen, HasSubstr("Ana García"));
  EXPECT_THAT(screen, HasSubstr("Needs a Spanish interpretation headset"));
  EXPECT_THAT(screen, HasSubstr("Dietary needs at breakfast and lunch"));
  EXPECT_THAT(screen, HasSubstr("Round 1: Legislative advocacy — Ginn House"));
  EXPECT_THAT(screen, HasSubstr("Scanned at 08:31:02"));
}

TEST_F(ScanAppTest, EveryLabelIsSpanishWithLanguageEs) {
  door_.state.online = false;
  door_.state.queued = 4;
  door_.answers[kAna].offline = true;
  App(Language::kSpanish).OnLine(L(kAna));
  const std::string screen = Out();
  for (const char* spanish :
       {"Admitido", "Necesita audífonos de interpretación al español",
        "Necesidades alimentarias en el desayuno y el almuerzo", "Talleres:", "Ronda 1",
        "Decidido sin conexión", "[ENTRADA] · Entrada principal", "SIN CONEXIÓN", "4 en cola",
        "última sincronización nunca", "12 adentro de 300", "escanee o escriba> "}) {
    EXPECT_THAT(screen, HasSubstr(spanish));
  }
  for (const char* english : {"Needs", "Breakouts", "queued", "inside", "ENTRY]"}) {
    EXPECT_THAT(screen, Not(HasSubstr(english)));
  }
}

TEST_F(ScanAppTest, AlreadyCheckedInIsAmberWithTheFirstEntryInTheEventsTimeZone) {
  client::DoorAnswer again = Answer(v1::ScanResult::ALREADY_CHECKED_IN, "Ana García");
  *again.result.mutable_first_entry_time() = At("2015-10-15T15:31:00Z");
  again.result.set_first_entry_checkpoint("events/1/checkpoints/1");
  door_.answers["AGAIN"] = again;
  App(Language::kEnglish, false, true).OnLine(L("AGAIN"));
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("48;5;214m"));  // amber
  EXPECT_THAT(screen, HasSubstr("Already checked in · First entry 08:31"));
  EXPECT_THAT(screen, Not(HasSubstr("\a")));
}

TEST_F(ScanAppTest, RefusalsAreRedAndRing) {
  App(Language::kEnglish, false, true).OnLine(L("NOT-A-TICKET"));
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("\x1b[1;97;41m"));  // red
  EXPECT_THAT(screen, HasSubstr("\a"));
  EXPECT_THAT(screen, HasSubstr("Not a valid ticket"));
  App().Tick();
  EXPECT_THAT(Out(), Not(HasSubstr("\a"))) << "nothing changed: no redraw, no second ring";
}

TEST_F(ScanAppTest, BadInputGetsAMessageAndTheToolKeepsScanning) {
  ScanApp& app = App();
  LineReader reader;
  const std::string flood(10 * 1024, 'Q');
  struct Case {
    std::string bytes;
    const char* message;
  } cases[] = {
      {flood + "\n", "the scanner sent 10240 bytes in one line"},
      {std::string("\x01\x02\xff\x1b[A\0junk\n", 12), "unreadable characters"},
      {"\n", "Empty line"},
      {"/home/volunteer/not-there.png\n", "Cannot read the image not-there.png"},
  };
  for (const Case& c : cases) {
    for (const Line& line : reader.Feed(c.bytes)) app.OnLine(line);
    EXPECT_THAT(Out(), HasSubstr(c.message));
    EXPECT_FALSE(app.quit());
  }
  EXPECT_TRUE(door_.scans.empty()) << "junk is never sent to the door";
  for (const Line& line : reader.Feed(std::string("   ") + kAna + " \t\r\n")) app.OnLine(line);
  ASSERT_EQ(door_.scans.size(), 1u);
  EXPECT_EQ(door_.scans[0].code, kAna) << "surrounding spaces are trimmed";
  EXPECT_THAT(Out(), HasSubstr("Ana García"));
}

TEST_F(ScanAppTest, AnImageThatIsNotOneIsAMessage) {
  const std::string junk = TempPath("junk.png");
  std::ofstream(junk) << "this is not a png";
  ScanApp& app = App();
  app.OnImageFile(junk);
  EXPECT_THAT(Out(), HasSubstr("Cannot read the image " + junk.substr(junk.rfind('/') + 1) +
                               ": not a PNG or JPEG image"));
  app.OnLine(L(TempPath("missing.jpg")));
  EXPECT_THAT(Out(), HasSubstr("No such file"));
  EXPECT_TRUE(door_.scans.empty());
  EXPECT_FALSE(app.quit());
}

TEST_F(ScanAppTest, ScansTheCodeInAQrPngRenderedByTheServer) {
  const std::string path = TempPath("ticket.png");
  absl::StatusOr<std::string> png = domain::RenderQrPng(kAna);
  ASSERT_TRUE(png.ok());
  std::ofstream(path, std::ios::binary) << *png;
  App().OnLine(L("'" + path + "'"));  // as a terminal pastes a dropped file
  ASSERT_EQ(door_.scans.size(), 1u);
  EXPECT_EQ(door_.scans[0].code, kAna);
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("Ana García"));
  EXPECT_THAT(screen, HasSubstr("Read from the image"));
}

TEST_F(ScanAppTest, JsonModeWritesOneObjectPerInputAndNoScreen) {
  door_.answers[kAna].offline = true;
  door_.state.queued = 1;
  door_.answers[kAna].result.set_display_name("Ana \"Anita\" García\x1b[2J");
  ScanApp& app = App(Language::kSpanish, /*json=*/true);
  app.Start();
  app.OnLine(L(kAna));
  app.OnLine(L(std::string(2000, 'Z')));
  app.OnLine(L(""));
  std::vector<google::protobuf::Struct> lines = JsonOut();
  ASSERT_EQ(lines.size(), 3u);
  const auto& scan = lines[0].fields();
  EXPECT_EQ(scan.at("kind").string_value(), "scan");
  EXPECT_EQ(scan.at("status").string_value(), "ADMITTED");
  EXPECT_TRUE(scan.at("admitted").bool_value());
  EXPECT_EQ(scan.at("display_name").string_value(), "Ana \"Anita\" García\x1b[2J");
  EXPECT_EQ(scan.at("flags").list_value().values(0).string_value(), "spanish_interpretation");
  EXPECT_EQ(scan.at("flag_texts").list_value().values(0).string_value(),
            "Necesita audífonos de interpretación al español");
  EXPECT_EQ(
      scan.at("breakouts").list_value().values(0).struct_value().fields().at("room").string_value(),
      "Ginn House");
  EXPECT_TRUE(scan.at("offline").bool_value());
  EXPECT_EQ(scan.at("queued").number_value(), 1);
  EXPECT_EQ(scan.at("client_scan_id").string_value(), "scan-1");
  EXPECT_EQ(scan.at("direction").string_value(), "entry");
  EXPECT_EQ(scan.at("checkpoint").string_value(), "events/1/checkpoints/1");
  EXPECT_EQ(lines[1].fields().at("error").string_value(), "line_too_long");
  EXPECT_EQ(lines[1].fields().at("bytes").number_value(), 2000);
  EXPECT_EQ(lines[2].fields().at("error").string_value(), "empty_line");
}

TEST_F(ScanAppTest, JsonFirstEntryIsInTheEventsTimeZone) {
  client::DoorAnswer again = Answer(v1::ScanResult::ALREADY_CHECKED_IN, "Ana García");
  *again.result.mutable_first_entry_time() = At("2015-10-15T15:31:00Z");
  door_.answers["AGAIN"] = again;
  App(Language::kEnglish, true).OnLine(L("AGAIN"));
  std::vector<google::protobuf::Struct> lines = JsonOut();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].fields().at("first_entry_time").string_value(), "2015-10-15T08:31:00-07:00");
  EXPECT_FALSE(lines[0].fields().at("admitted").bool_value());
}

TEST_F(ScanAppTest, XTogglesEntryAndExit) {
  ScanApp& app = App();
  app.OnLine(L("/x"));
  EXPECT_THAT(Out(), HasSubstr("[EXIT]"));
  app.OnLine(L(kAna));
  app.OnLine(L("/X"));
  app.OnLine(L(kAna));
  ASSERT_EQ(door_.scans.size(), 2u);
  EXPECT_EQ(door_.scans[0].direction, v1::SCAN_DIRECTION_EXIT);
  EXPECT_EQ(door_.scans[1].direction, v1::SCAN_DIRECTION_ENTRY);
}

TEST_F(ScanAppTest, SearchThenAdmitByNumber) {
  v1::AttendeeMatch ana, anabel;
  ana.set_registration("events/1/registrations/7");
  ana.set_display_name("Ana García");
  ana.set_status(v1::Registration::CONFIRMED);
  ana.add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
  anabel.set_registration("events/1/registrations/9");
  anabel.set_display_name("Anabel Ruiz");
  anabel.set_status(v1::Registration::CONFIRMED);
  anabel.set_checked_in(true);
  door_.matches = {ana, anabel};
  door_.answers["events/1/registrations/9"] =
      Answer(v1::ScanResult::ALREADY_CHECKED_IN, "Anabel Ruiz");

  ScanApp& app = App();
  app.OnLine(L("/f an"));
  EXPECT_THAT(Out(), HasSubstr("at least 3 letters"));
  EXPECT_TRUE(door_.searches.empty());
  app.OnLine(L("/2"));
  EXPECT_THAT(Out(), HasSubstr("No match 2"));
  EXPECT_TRUE(door_.scans.empty());

  app.OnLine(L("/f ana "));
  EXPECT_THAT(door_.searches, ::testing::ElementsAre("ana"));
  const std::string list = Out();
  EXPECT_THAT(list, HasSubstr("/1  Ana García · Needs a Spanish interpretation headset"));
  EXPECT_THAT(list, HasSubstr("/2  Anabel Ruiz · checked in"));

  app.OnLine(L("/2"));
  ASSERT_EQ(door_.scans.size(), 1u);
  EXPECT_EQ(door_.scans[0].registration, "events/1/registrations/9");
  EXPECT_EQ(door_.scans[0].code, "");
  EXPECT_THAT(Out(), HasSubstr("Already checked in"));
}

TEST_F(ScanAppTest, WalkInTakesNameLanguageAndFlags) {
  door_.walk_in_answer = Answer(v1::ScanResult::ADMITTED, "Rosa Díaz");
  ScanApp& app = App();
  app.OnLine(L("/w Rosa Díaz; es; spanish_interpretation, CHILDCARE"));
  ASSERT_EQ(door_.walk_ins.size(), 1u);
  EXPECT_EQ(door_.walk_ins[0].display_name(), "Rosa Díaz");
  EXPECT_EQ(door_.walk_ins[0].preferred_language(), "es");
  EXPECT_THAT(door_.walk_ins[0].attention_flags(),
              ::testing::ElementsAre(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION,
                                     v1::ATTENTION_FLAG_CHILDCARE));
  EXPECT_THAT(Out(), HasSubstr("Rosa Díaz"));

  app.OnLine(L("/w Rosa; es; headset"));
  EXPECT_THAT(Out(), HasSubstr("Unknown flag \"headset\" (flags: spanish_interpretation, "));
  app.OnLine(L("/w"));
  EXPECT_THAT(Out(), HasSubstr("Walk-in: /w NAME; LANGUAGE; FLAG,FLAG"));
  EXPECT_EQ(door_.walk_ins.size(), 1u);
}

TEST_F(ScanAppTest, UndoAnnulsTheLastScanOrSaysWhyNot) {
  ScanApp& app = App();
  app.OnLine(L("/u"));
  EXPECT_EQ(door_.annulments, 1);
  EXPECT_THAT(Out(), HasSubstr("The last scan was annulled"));
  door_.annul_error = absl::UnavailableError("offline: annulling needs the server");
  app.OnLine(L("/u"));
  EXPECT_THAT(Out(), HasSubstr("That did not work: offline: annulling needs the server"));
}

TEST_F(ScanAppTest, CheckpointsAreListedAndSwitched) {
  ScanApp& app = App();
  app.OnLine(L("/c"));
  const std::string list = Out();
  EXPECT_THAT(list, HasSubstr("▶ 1  Entrance"));
  EXPECT_THAT(list, HasSubstr("  3  Workers' rights — Bishop House"));
  app.OnLine(L("/c 3"));
  EXPECT_EQ(door_.state.checkpoint.name(), "events/1/checkpoints/3");
  const std::string screen = Out();
  EXPECT_THAT(screen, HasSubstr("Scanning at Workers' rights"));
  EXPECT_THAT(screen, HasSubstr("[ENTRY] · Workers' rights · online"));
  app.OnLine(L("/c 9"));
  EXPECT_THAT(Out(), HasSubstr("No checkpoint 9"));
}

TEST_F(ScanAppTest, HelpSyncUnknownAndQuit) {
  ScanApp& app = App(Language::kSpanish);
  app.OnLine(L("/?"));
  EXPECT_THAT(Out(), HasSubstr("/x          cambiar entre ENTRADA y SALIDA"));
  app.OnLine(L("/s"));
  EXPECT_EQ(door_.syncs, 1);
  EXPECT_THAT(Out(), HasSubstr("Sincronizado con el servidor"));
  app.OnLine(L("/zz"));
  EXPECT_THAT(Out(), HasSubstr("Comando desconocido /zz"));
  EXPECT_FALSE(app.quit());
  app.OnLine(L("/q"));
  EXPECT_TRUE(app.quit());
}

TEST_F(ScanAppTest, EngineErrorsAreShownNotFatal) {
  door_.scan_error = absl::UnavailableError("no bundle yet and the server does not answer");
  ScanApp& app = App();
  app.OnLine(L(kAna));
  EXPECT_THAT(Out(), HasSubstr("That did not work: no bundle yet and the server does not answer"));
  EXPECT_FALSE(app.quit());
}

TEST_F(ScanAppTest, TheStatusLineFollowsTheEngine) {
  ScanApp& app = App();
  app.Start();
  Out();
  app.Tick();
  EXPECT_EQ(Out(), "") << "nothing changed";
  door_.state.online = false;
  door_.state.queued = 3;
  door_.state.last_sync = absl::FromUnixSeconds(1444923000);  // 08:30:00 in Oakland
  door_.state.last_error = "server unreachable";
  app.Tick();
  // Too long for 80 columns: the status line wraps between its parts.
  EXPECT_THAT(Out(), HasSubstr("OFFLINE · 3 queued · last sync 08:30:00 · 12 inside of 300\n"
                               "sync: server unreachable\n"));
}

TEST_F(ScanAppTest, TheLoopReadsAPipeUntilQuit) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&] {
    const std::string input =
        std::string(10 * 1024, 'A') + "\n" + "   \n" + kAna + "\r\n/q\n" + kAna + "\n";
    EXPECT_EQ(write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
    close(fds[1]);
  });
  ScanApp& app = App(Language::kEnglish, /*json=*/true);
  LoopOptions loop;
  loop.input_fd = fds[0];
  loop.tick = absl::Milliseconds(10);
  RunLoop(app, loop);
  writer.join();
  close(fds[0]);
  std::vector<google::protobuf::Struct> lines = JsonOut();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].fields().at("error").string_value(), "line_too_long");
  EXPECT_EQ(lines[1].fields().at("error").string_value(), "empty_line");
  EXPECT_EQ(lines[2].fields().at("status").string_value(), "ADMITTED");
  EXPECT_EQ(door_.scans.size(), 1u) << "nothing after /q";
}

TEST_F(ScanAppTest, TheLoopScansImagesDroppedIntoTheWatchedFolder) {
  const std::string dir = TempPath("drop");
  WatchDir watch(dir);
  ASSERT_TRUE(watch.Init().ok());
  absl::StatusOr<std::string> png = domain::RenderQrPng(kAna);
  ASSERT_TRUE(png.ok());
  std::ofstream(dir + "/ana.png", std::ios::binary) << *png;
  std::ofstream(dir + "/notes.txt") << "not an image";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ScanApp& app = App(Language::kEnglish, /*json=*/true);
  LoopOptions loop;
  loop.input_fd = fds[0];
  loop.tick = absl::Milliseconds(10);
  loop.watch = &watch;
  loop.interrupted = [&] { return !door_.scans.empty(); };
  close(fds[1]);  // end of input: the loop goes on for the folder
  RunLoop(app, loop);
  close(fds[0]);
  ASSERT_EQ(door_.scans.size(), 1u);
  EXPECT_EQ(door_.scans[0].code, kAna);
  struct stat st;
  EXPECT_EQ(stat((dir + "/scanned/ana.png").c_str(), &st), 0) << "moved aside once scanned";
  EXPECT_NE(stat((dir + "/ana.png").c_str(), &st), 0);
  EXPECT_EQ(stat((dir + "/notes.txt").c_str(), &st), 0) << "other files are left alone";
  EXPECT_TRUE(watch.Poll().empty());
}

TEST(WatchDirTest, AFileIsReadyOnlyOnceItsSizeHoldsStill) {
  const std::string dir = std::string(::testing::TempDir()) + "/watch-still";
  WatchDir watch(dir);
  ASSERT_TRUE(watch.Init().ok());
  const std::string path = dir + "/t.jpg";
  std::ofstream(path) << "half";
  EXPECT_TRUE(watch.Poll().empty()) << "first seen";
  std::ofstream(path, std::ios::app) << " written";
  EXPECT_TRUE(watch.Poll().empty()) << "still growing";
  EXPECT_THAT(watch.Poll(), ::testing::ElementsAre(path));
  watch.Done(path);
  EXPECT_TRUE(watch.Poll().empty());
}

TEST(StateDirTest, DefaultFollowsXdgThenHome) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto found = vars.find(name);
      return found == vars.end() ? nullptr : found->second.c_str();
    };
  };
  EXPECT_EQ(*DefaultStateDir(env({{"XDG_STATE_HOME", "/x/state"}, {"HOME", "/home/v"}})),
            "/x/state/turnout-scan");
  EXPECT_EQ(*DefaultStateDir(env({{"XDG_STATE_HOME", "relative"}, {"HOME", "/home/v"}})),
            "/home/v/.local/state/turnout-scan");
  EXPECT_FALSE(DefaultStateDir(env({})).ok());

  const std::string deep = std::string(::testing::TempDir()) + "/state-a/b/c";
  ASSERT_TRUE(MakeDirs(deep).ok());
  struct stat st;
  ASSERT_EQ(stat(deep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(MakeDirs(deep).ok()) << "idempotent";
}

}  // namespace
}  // namespace turnout::tools::scan
