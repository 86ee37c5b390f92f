// The block-letter font; see big_letters.h.
#include "tools/scan/big_letters.h"

#include <cstdint>

#include "absl/strings/ascii.h"

namespace turnout::tools::scan {
namespace {

struct Glyph {
  char c;
  const char* rows[kBigLetterRows];
};

constexpr Glyph kFont[] = {
    {'A', {" ### ", "#   #", "#####", "#   #", "#   #"}},
    {'B', {"#### ", "#   #", "#### ", "#   #", "#### "}},
    {'C', {" ####", "#    ", "#    ", "#    ", " ####"}},
    {'D', {"#### ", "#   #", "#   #", "#   #", "#### "}},
    {'E', {"#####", "#    ", "#### ", "#    ", "#####"}},
    {'F', {"#####", "#    ", "#### ", "#    ", "#    "}},
    {'G', {" ####", "#    ", "#  ##", "#   #", " ####"}},
    {'H', {"#   #", "#   #", "#####", "#   #", "#   #"}},
    {'I', {"#####", "  #  ", "  #  ", "  #  ", "#####"}},
    {'J', {"  ###", "    #", "    #", "#   #", " ### "}},
    {'K', {"#   #", "#  # ", "###  ", "#  # ", "#   #"}},
    {'L', {"#    ", "#    ", "#    ", "#    ", "#####"}},
    {'M', {"#   #", "## ##", "# # #", "#   #", "#   #"}},
    {'N', {"#   #", "##  #", "# # #", "#  ##", "#   #"}},
    {'O', {" ### ", "#   #", "#   #", "#   #", " ### "}},
    {'P', {"#### ", "#   #", "#### ", "#    ", "#    "}},
    {'Q', {" ### ", "#   #", "# # #", "#  # ", " ## #"}},
    {'R', {"#### ", "#   #", "#### ", "#  # ", "#   #"}},
    {'S', {" ####", "#    ", " ### ", "    #", "#### "}},
    {'T', {"#####", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'U', {"#   #", "#   #", "#   #", "#   #", " ### "}},
    {'V', {"#   #", "#   #", "#   #", " # # ", "  #  "}},
    {'W', {"#   #", "#   #", "# # #", "## ##", "#   #"}},
    {'X', {"#   #", " # # ", "  #  ", " # # ", "#   #"}},
    {'Y', {"#   #", " # # ", "  #  ", "  #  ", "  #  "}},
    {'Z', {"#####", "   # ", "  #  ", " #   ", "#####"}},
    {'0', {" ### ", "#  ##", "# # #", "##  #", " ### "}},
    {'1', {"  #  ", " ##  ", "  #  ", "  #  ", " ### "}},
    {'2', {" ### ", "#   #", "  ## ", " #   ", "#####"}},
    {'3', {"#### ", "    #", " ### ", "    #", "#### "}},
    {'4', {"#   #", "#   #", "#####", "    #", "    #"}},
    {'5', {"#####", "#    ", "#### ", "    #", "#### "}},
    {'6', {" ### ", "#    ", "#### ", "#   #", " ### "}},
    {'7', {"#####", "    #", "   # ", "  #  ", "  #  "}},
    {'8', {" ### ", "#   #", " ### ", "#   #", " ### "}},
    {'9', {" ### ", "#   #", " ####", "    #", " ### "}},
    {' ', {"     ", "     ", "     ", "     ", "     "}},
    {'-', {"     ", "     ", "#####", "     ", "     "}},
    {'!', {"  #  ", "  #  ", "  #  ", "     ", "  #  "}},
    {'?', {" ### ", "#   #", "  ## ", "     ", "  #  "}},
};

// The accented capitals of Spanish, drawn as their base letter.
constexpr struct {
  const char* utf8;
  char base;
} kAccented[] = {{"Á", 'A'}, {"É", 'E'}, {"Í", 'I'}, {"Ó", 'O'},
                 {"Ú", 'U'}, {"Ü", 'U'}, {"Ñ", 'N'}};

// The glyphs of UTF-8 `text`, one per code point.
std::vector<const Glyph*> Glyphs(absl::string_view text) {
  const Glyph* unknown = nullptr;
  for (const Glyph& g : kFont) {
    if (g.c == '?') unknown = &g;
  }
  std::vector<const Glyph*> glyphs;
  for (size_t i = 0; i < text.size();) {
    char c = absl::ascii_toupper(text[i]);
    size_t length = 1;
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      c = '?';
      while (i + length < text.size() &&
             (static_cast<unsigned char>(text[i + length]) & 0xC0) == 0x80) {
        ++length;
      }
      for (const auto& accented : kAccented) {
        if (text.substr(i, length) == accented.utf8) c = accented.base;
      }
    }
    const Glyph* glyph = unknown;
    for (const Glyph& g : kFont) {
      if (g.c == c) glyph = &g;
    }
    glyphs.push_back(glyph);
    i += length;
  }
  return glyphs;
}

}  // namespace

std::vector<std::string> BigLetters(absl::string_view text) {
  std::vector<std::string> rows(kBigLetterRows);
  const std::vector<const Glyph*> glyphs = Glyphs(text);
  for (size_t g = 0; g < glyphs.size(); ++g) {
    for (int r = 0; r < kBigLetterRows; ++r) {
      if (g > 0) rows[r] += ' ';
      for (const char* p = glyphs[g]->rows[r]; *p != '\0'; ++p) rows[r] += *p == '#' ? "█" : " ";
    }
  }
  return rows;
}

int BigLettersWidth(absl::string_view text) {
  const int n = static_cast<int>(Glyphs(text).size());
  return n == 0 ? 0 : n * kBigLetterColumns - 1;
}

}  // namespace turnout::tools::scan
