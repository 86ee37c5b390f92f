// Reading a ticket's QR code from an image: a PNG or JPEG file (a photo, a screenshot, the PNG that
// GetTicket returns) decoded with libpng or libjpeg to grayscale, and the symbol read by ZXing-C++.
// turnout-scan reads dropped images with it; tests read back what the server drew (libqrencode),
// so the reader is independent of the writer.
//
//   absl::StatusOr<std::string> code = ReadQrFromImage(file_bytes);
//   if (code.ok()) door->Scan({.code = *code});
//
// Untrusted input is expected: anything that is not a readable PNG or JPEG, or larger than
// kMaxImagePixels, is InvalidArgument, never a crash.
#ifndef TURNOUT_CLIENT_LIB_QR_IMAGE_H_
#define TURNOUT_CLIENT_LIB_QR_IMAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::client {

// Images larger than this (a 48-megapixel phone photo) are refused before they are decoded.
inline constexpr int64_t kMaxImagePixels = 50'000'000;

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // row-major, 0 = black, 255 = white
};

// Decodes a PNG (libpng's simplified API), converted to 8-bit grayscale.
absl::StatusOr<GrayImage> DecodePng(absl::string_view png);

// Decodes a JPEG (libjpeg), converted to 8-bit grayscale.
absl::StatusOr<GrayImage> DecodeJpeg(absl::string_view jpeg);

// DecodePng or DecodeJpeg, chosen by the file's signature, not its name.
absl::StatusOr<GrayImage> DecodeImage(absl::string_view bytes);

// The text of the QR code in `image`, read by ZXing-C++. NotFound when it finds none.
absl::StatusOr<std::string> ReadQr(const GrayImage& image);

// DecodeImage, then ReadQr.
absl::StatusOr<std::string> ReadQrFromImage(absl::string_view bytes);

}  // namespace turnout::client

#endif  // TURNOUT_CLIENT_LIB_QR_IMAGE_H_
