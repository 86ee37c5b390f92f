// The words of the big screen in English and Spanish. The page is rendered with the labels of one
// language (`?lang=es`); the counts streamed to it carry no words, so one stream serves both.
// Labels may hold "{n}", which the page replaces with a number.
#ifndef TURNOUT_TOOLS_DASH_STRINGS_H_
#define TURNOUT_TOOLS_DASH_STRINGS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace turnout::dash {

enum class Language { kEnglish, kSpanish };

// Spanish for "es" and its regional forms ("es-MX", "ES"); English for anything else or nothing.
Language LanguageFromParam(absl::string_view param);

// The BCP 47 tag for <html lang>: "en" or "es".
const char* LanguageTag(Language language);

// The label `key` in `language`; empty for an unknown key.
absl::string_view Label(Language language, absl::string_view key);

// Every label key, in the order of the table.
std::vector<std::string> LabelKeys();

// Every label in `language` as one JSON object, {"title":"Live attendance",...}, safe to place
// inside a <script> element.
std::string LabelsJson(Language language);

}  // namespace turnout::dash

#endif  // TURNOUT_TOOLS_DASH_STRINGS_H_
