// Block letters for the verdict, readable at arm's length: five rows of '█', six columns a letter.
//
//   for (const std::string& row : BigLetters("ADMITTED")) std::cout << row << "\n";
//
// Covers A-Z, 0-9, space, '?', '!', '-' and the accented capitals of Spanish (drawn without the
// accent); anything else is drawn as '?'.
#ifndef TURNOUT_TOOLS_SCAN_BIG_LETTERS_H_
#define TURNOUT_TOOLS_SCAN_BIG_LETTERS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace turnout::tools::scan {

inline constexpr int kBigLetterRows = 5;
inline constexpr int kBigLetterColumns = 6;  // five for the glyph, one space after it

// Five rows, each BigLettersWidth(text) columns wide (no trailing space after the last letter).
std::vector<std::string> BigLetters(absl::string_view text);

// Columns the block letters of UTF-8 `text` take.
int BigLettersWidth(absl::string_view text);

}  // namespace turnout::tools::scan

#endif  // TURNOUT_TOOLS_SCAN_BIG_LETTERS_H_
