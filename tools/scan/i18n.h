// Every word turnout-scan shows, in English and Spanish (--language=es): the verdicts, the
// attention flags spelled out, the status line, the help and the messages about bad input.
// Messages with values are absl::Substitute patterns ("$0 queued").
//
//   const Language es = Language::kSpanish;
//   Headline(v1::ScanResult::ADMITTED, es);                    // "ADMITIDO"
//   FlagText(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION, es);  // "Necesita audífonos de ..."
//   absl::Substitute(Text(Msg::kQueued, es), 3);              // "3 en cola"
#ifndef TURNOUT_TOOLS_SCAN_I18N_H_
#define TURNOUT_TOOLS_SCAN_I18N_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "turnout/v1/resources.pb.h"

namespace turnout::tools::scan {

enum class Language { kEnglish, kSpanish };

// "en" or "es", with or without a region ("es-MX"); nullopt for any other language.
std::optional<Language> ParseLanguage(absl::string_view tag);
absl::string_view LanguageTag(Language language);

// A verdict short enough for block letters on an 80-column terminal: "ADMITTED", "ALREADY IN".
absl::string_view Headline(v1::ScanResult::Status status, Language language);

// The verdict in a few words: "Already checked in", "Not registered for this session".
absl::string_view StatusText(v1::ScanResult::Status status, Language language);

// What the door must do for the attendee: "Needs a Spanish interpretation headset".
absl::string_view FlagText(v1::AttentionFlag flag, Language language);

// The other labels and messages.
enum class Msg {
  kReady,
  kTryAgain,
  kError,
  kSearch,
  kFromImage,
  kReadyHint,
  kEntryMode,
  kExitMode,
  kOnline,
  kOffline,
  kQueued,
  kLastSync,
  kNever,
  kInside,
  kInsideOf,
  kEntrance,
  kPrompt,
  kName,
  kBreakouts,
  kRound,
  kWaitlisted,
  kFirstEntry,
  kScannedAt,
  kDecidedOffline,
  kReplayed,
  kEmptyLine,
  kLineTooLong,
  kBinaryInput,
  kImageUnreadable,
  kImageNoQr,
  kSearchTooShort,
  kSearchResults,
  kNoMatches,
  kCheckedIn,
  kPickHint,
  kNoSuchMatch,
  kWalkInUsage,
  kWalkInBadFlag,
  kAnnulled,
  kCheckpoints,
  kCheckpointPickHint,
  kNoSuchCheckpoint,
  kCheckpointSet,
  kSyncDone,
  kSyncFailed,
  kUnknownCommand,
  kDamagedStore,
  kSyncError,
  kDidNotWork,
  kHelp,
  kCount  // not a message: the number of them
};

absl::string_view Text(Msg msg, Language language);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_I18N_H_
