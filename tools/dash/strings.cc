// The label table; see strings.h.
#include "tools/dash/strings.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/common/text.h"

namespace turnout::dash {
namespace {

struct Entry {
  const char* key;
  const char* english;
  const char* spanish;
};

// Spanish as spoken by the trainings' attendees (California): "cupo", "adentro".
constexpr Entry kLabels[] = {
    {"title", "Live attendance", "Asistencia en vivo"},
    {"entrance", "Entrance", "Entrada"},
    {"checked_in", "Checked in", "Han llegado"},
    {"of_registered", "of {n} registered", "de {n} inscritos"},
    {"inside", "Inside now", "Adentro ahora"},
    {"of_capacity", "of {n} capacity", "de un cupo de {n}"},
    {"no_limit", "no capacity limit", "sin límite de cupo"},
    {"arrivals", "Arrivals per minute, last hour", "Llegadas por minuto, última hora"},
    {"arrivals_now", "{n} in the last minute", "{n} en el último minuto"},
    {"hour_ago", "an hour ago", "hace una hora"},
    {"now", "now", "ahora"},
    {"no_samples", "The line starts with the first minute.",
     "La línea empieza con el primer minuto."},
    {"rooms", "Rooms", "Salas"},
    {"no_rooms", "No rooms in the program yet.", "Todavía no hay salas en el programa."},
    {"almost_full", "almost full", "casi llena"},
    {"full", "FULL", "LLENA"},
    {"live", "Live", "En vivo"},
    {"connecting", "Connecting…", "Conectando…"},
    {"reconnecting", "Reconnecting…", "Reconectando…"},
    {"failed", "Stopped: ask the organizer to check the dashboard",
     "Detenido: pida al equipo organizador que revise la pantalla"},
    {"updated", "Updated {n}", "Actualizado {n}"},
};

}  // namespace

Language LanguageFromParam(absl::string_view param) {
  const std::string lower = absl::AsciiStrToLower(param);
  if (lower == "es" || absl::StartsWith(lower, "es-") || absl::StartsWith(lower, "es_")) {
    return Language::kSpanish;
  }
  return Language::kEnglish;
}

const char* LanguageTag(Language language) { return language == Language::kSpanish ? "es" : "en"; }

absl::string_view Label(Language language, absl::string_view key) {
  for (const Entry& entry : kLabels) {
    if (key == entry.key) return language == Language::kSpanish ? entry.spanish : entry.english;
  }
  return "";
}

std::vector<std::string> LabelKeys() {
  std::vector<std::string> keys;
  for (const Entry& entry : kLabels) keys.push_back(entry.key);
  return keys;
}

std::string LabelsJson(Language language) {
  std::string json = "{";
  for (const Entry& entry : kLabels) {
    if (json.size() > 1) json += ",";
    absl::StrAppend(&json, tools::JsonQuote(entry.key), ":",
                    tools::JsonQuote(Label(language, entry.key)));
  }
  return json + "}";
}

}  // namespace turnout::dash
