#include "server/domain/qr.h"

#include <cstdio>
#include <string>
#include <vector>

#include "client-lib/qr_image.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/ticket_code.h"

namespace turnout::domain {
namespace {

using ::turnout::client::GrayImage;

// Decodes a PNG with libpng, failing the test if it is not one.
GrayImage DecodePng(const std::string& png) {
  absl::StatusOr<GrayImage> image = client::DecodePng(png);
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *std::move(image) : GrayImage{};
}

// Reads a QR code with ZXing-C++, an implementation independent of libqrencode.
std::string ReadWithZxing(const GrayImage& image) {
  absl::StatusOr<std::string> text = client::ReadQr(image);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *std::move(text) : "";
}

// Rebuilds the module grid (quiet zone included) that an SVG from RenderQrSvg draws, by parsing
// its one path of "Mx yhNv1h-Nz" runs. Fails the test on anything else.
std::vector<bool> ModulesDrawnBySvg(const std::string& svg, int side) {
  std::vector<bool> dark(side * side, false);
  const size_t d = svg.find(" d=\"");
  if (d == std::string::npos) {
    ADD_FAILURE() << "no path data";
    return dark;
  }
  const std::string path = svg.substr(d + 4, svg.find('"', d + 4) - (d + 4));
  const char* p = path.c_str();
  while (*p != '\0') {
    int x, y, run, back, consumed = 0;
    if (std::sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &back, &consumed) != 4 ||
        consumed == 0 || run != back || run < 1 || x < 0 || y < 0 || x + run > side || y >= side) {
      ADD_FAILURE() << "unexpected path data at: " << p;
      return dark;
    }
    for (int i = 0; i < run; ++i) {
      EXPECT_FALSE(dark[y * side + x + i]) << "module drawn twice";
      dark[y * side + x + i] = true;
    }
    p += consumed;
  }
  return dark;
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

class QrTest : public ::testing::Test {
 protected:
  QrTest() {
    const SigningKey key = GenerateSigningKey(1);
    TicketClaims claims;
    claims.key_id = 1;
    claims.event_id = 42;
    claims.ticket_id = RandomTicketId();
    claims.not_after = absl::FromUnixSeconds(1767225600);
    code_ = EncodeTicketCode(claims, key);
  }

  std::string code_;
};

TEST_F(QrTest, TicketCodeFitsVersionSeven) {
  absl::StatusOr<QrSymbol> symbol = EncodeQr(code_);
  ASSERT_TRUE(symbol.ok()) << symbol.status();
  EXPECT_GE(symbol->version, 1);
  EXPECT_LE(symbol->version, 7);
  EXPECT_EQ(symbol->width, 17 + 4 * symbol->version);
  EXPECT_EQ(symbol->dark.size(), static_cast<size_t>(symbol->width * symbol->width));
}

TEST_F(QrTest, PngReadsBackExactlyWithZxing) {
  for (int scale : {3, 8}) {
    absl::StatusOr<std::string> png = RenderQrPng(code_, scale);
    ASSERT_TRUE(png.ok()) << png.status();
    const GrayImage image = DecodePng(*png);
    EXPECT_EQ(ReadWithZxing(image), code_) << "scale " << scale;
  }
}

TEST_F(QrTest, PngDrawsEachModuleAsAScaledSquareInsideTheQuietZone) {
  const int scale = 5;
  const QrSymbol symbol = *EncodeQr(code_);
  const GrayImage image = DecodePng(*RenderQrPng(code_, scale));
  const int side = symbol.width + 2 * kQrQuietZoneModules;
  ASSERT_EQ(image.width, side * scale);
  ASSERT_EQ(image.height, side * scale);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      const int mx = x / scale - kQrQuietZoneModules;
      const int my = y / scale - kQrQuietZoneModules;
      const bool dark = mx >= 0 && my >= 0 && mx < symbol.width && my < symbol.width &&
                        symbol.dark[my * symbol.width + mx];
      ASSERT_EQ(image.pixels[y * image.width + x], dark ? 0 : 255) << x << "," << y;
    }
  }
}

TEST_F(QrTest, SvgDrawsExactlyTheSymbolsModules) {
  const QrSymbol symbol = *EncodeQr(code_);
  absl::StatusOr<std::string> svg = RenderQrSvg(code_);
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_TRUE(svg->rfind("<svg", 0) == 0 || svg->rfind("<?xml", 0) == 0);
  const int side = symbol.width + 2 * kQrQuietZoneModules;
  EXPECT_THAT(*svg, ::testing::HasSubstr("viewBox=\"0 0 " + std::to_string(side) + " " +
                                         std::to_string(side) + "\""));
  EXPECT_THAT(*svg, ::testing::HasSubstr("crispEdges"));
  EXPECT_THAT(*svg, ::testing::EndsWith("</svg>\n"));
  EXPECT_EQ(Count(*svg, "<path"), 1);

  const std::vector<bool> drawn = ModulesDrawnBySvg(*svg, side);
  int dark_drawn = 0;
  int dark_expected = 0;
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const int mx = x - kQrQuietZoneModules;
      const int my = y - kQrQuietZoneModules;
      const bool dark = mx >= 0 && my >= 0 && mx < symbol.width && my < symbol.width &&
                        symbol.dark[my * symbol.width + mx];
      dark_expected += dark;
      dark_drawn += drawn[y * side + x];
      EXPECT_EQ(drawn[y * side + x], dark) << x << "," << y;
    }
  }
  EXPECT_EQ(dark_drawn, dark_expected);
  EXPECT_GT(dark_drawn, 0);

  // Rasterise what the SVG draws and let ZXing read it, so the SVG too is checked end to end.
  const int scale = 4;
  GrayImage image{side * scale, side * scale, {}};
  image.pixels.resize(image.width * image.height);
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      image.pixels[y * image.width + x] = drawn[(y / scale) * side + x / scale] ? 0 : 255;
    }
  }
  EXPECT_EQ(ReadWithZxing(image), code_);
}

TEST(QrErrorsTest, RejectsUnencodableInputAndBadScale) {
  EXPECT_EQ(EncodeQr("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeQr(absl::string_view("A\0B", 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeQr(std::string(8000, 'x')).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderQrPng("HELLO", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RenderQrPng("HELLO", 33).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RenderQrPng("HELLO", 1).ok());
}

TEST(QrErrorsTest, IsCaseSensitive) {
  // Lower case must not be silently upper-cased into alphanumeric mode.
  GrayImage image = DecodePng(*RenderQrPng("hello"));
  EXPECT_EQ(ReadWithZxing(image), "hello");
}

}  // namespace
}  // namespace turnout::domain
