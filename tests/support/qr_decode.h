// Reading QR codes back in tests, with decoders independent of the ones that drew them: libpng
// for the image and ZXing-C++ for the symbol (the server renders with libqrencode).
//
//   absl::StatusOr<std::string> text = ReadQrFromPng(ticket.qr_png());
//   EXPECT_EQ(*text, ticket.code());
#ifndef TURNOUT_TESTS_SUPPORT_QR_DECODE_H_
#define TURNOUT_TESTS_SUPPORT_QR_DECODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::testing {

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // row-major, 0 = black, 255 = white
};

// Decodes a PNG with libpng's simplified API, converted to 8-bit grayscale. InvalidArgument for
// anything that is not a readable PNG.
absl::StatusOr<GrayImage> DecodePng(absl::string_view png);

// The text of the QR code in `image`, read by ZXing-C++. NotFound when it finds none.
absl::StatusOr<std::string> ReadQr(const GrayImage& image);

// DecodePng, then ReadQr.
absl::StatusOr<std::string> ReadQrFromPng(absl::string_view png);

}  // namespace turnout::testing

#endif  // TURNOUT_TESTS_SUPPORT_QR_DECODE_H_
