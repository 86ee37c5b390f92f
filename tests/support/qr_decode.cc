#include "tests/support/qr_decode.h"

#include <png.h>

#include "absl/strings/str_cat.h"

// ZXing 1.4 returns std::wstring from Result::text() unless this is set.
#define ZX_USE_UTF8 1
#include "ZXing/ReadBarcode.h"

namespace turnout::testing {

absl::StatusOr<GrayImage> DecodePng(absl::string_view png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    return absl::InvalidArgumentError(absl::StrCat("not a PNG: ", image.message));
  }
  image.format = PNG_FORMAT_GRAY;
  GrayImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat("bad PNG: ", image.message));
  }
  return out;
}

absl::StatusOr<std::string> ReadQr(const GrayImage& image) {
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::QRCode);
  const ZXing::Result result = ZXing::ReadBarcode(
      ZXing::ImageView(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum),
      hints);
  if (!result.isValid()) return absl::NotFoundError("ZXing found no QR code");
  return result.text();
}

absl::StatusOr<std::string> ReadQrFromPng(absl::string_view png) {
  absl::StatusOr<GrayImage> image = DecodePng(png);
  if (!image.ok()) return image.status();
  return ReadQr(*image);
}

}  // namespace turnout::testing
