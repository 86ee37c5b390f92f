// QR codes from PNG and JPEG images; see qr_image.h.
#include "client-lib/qr_image.h"

#include <png.h>
#include <setjmp.h>

#include <cstdio>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

// ZXing 1.4 returns std::wstring from Result::text() unless this is set.
#define ZX_USE_UTF8 1
#include "ZXing/ReadBarcode.h"

namespace turnout::client {
namespace {

constexpr absl::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
constexpr absl::string_view kJpegSignature("\xff\xd8\xff", 3);

absl::Status TooLarge(int64_t width, int64_t height) {
  return absl::InvalidArgumentError(absl::StrCat("image too large: ", width, "x", height,
                                                 " pixels (at most ", kMaxImagePixels, ")"));
}

// libjpeg reports errors by calling error_exit, which must not return: it jumps back to the
// decoder with the message.
struct JpegError {
  jpeg_error_mgr manager;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr info) {
  JpegError* error = reinterpret_cast<JpegError*>(info->err);
  (*info->err->format_message)(info, error->message);
  longjmp(error->jump, 1);
}

void JpegQuiet(j_common_ptr, int) {}  // warnings (a truncated file, say) are not printed

// Only plain C objects live in this frame: longjmp skips destructors. Returns false with
// `error->message` set.
bool DecodeJpegInto(const unsigned char* data, unsigned long size, JpegError* error,
                    GrayImage* out) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&error->manager);
  error->manager.error_exit = JpegErrorExit;
  error->manager.emit_message = JpegQuiet;
  if (setjmp(error->jump)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, size);
  jpeg_read_header(&info, TRUE);
  if (static_cast<int64_t>(info.image_width) * info.image_height > kMaxImagePixels) {
    std::snprintf(error->message, sizeof(error->message), "image too large: %ux%u pixels",
                  info.image_width, info.image_height);
    jpeg_destroy_decompress(&info);
    return false;
  }
  info.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&info);
  out->width = static_cast<int>(info.output_width);
  out->height = static_cast<int>(info.output_height);
  out->pixels.resize(static_cast<size_t>(out->width) * out->height);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = out->pixels.data() + static_cast<size_t>(info.output_scanline) * out->width;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return true;
}

}  // namespace

absl::StatusOr<GrayImage> DecodePng(absl::string_view png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    return absl::InvalidArgumentError(absl::StrCat("not a PNG: ", image.message));
  }
  if (static_cast<int64_t>(image.width) * image.height > kMaxImagePixels) {
    png_image_free(&image);
    return TooLarge(image.width, image.height);
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

absl::StatusOr<GrayImage> DecodeJpeg(absl::string_view jpeg) {
  if (!absl::StartsWith(jpeg, kJpegSignature)) return absl::InvalidArgumentError("not a JPEG");
  JpegError error{};
  GrayImage out;
  if (!DecodeJpegInto(reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size(), &error,
                      &out)) {
    return absl::InvalidArgumentError(absl::StrCat("bad JPEG: ", error.message));
  }
  return out;
}

absl::StatusOr<GrayImage> DecodeImage(absl::string_view bytes) {
  if (absl::StartsWith(bytes, kPngSignature)) return DecodePng(bytes);
  if (absl::StartsWith(bytes, kJpegSignature)) return DecodeJpeg(bytes);
  return absl::InvalidArgumentError("not a PNG or JPEG image");
}

absl::StatusOr<std::string> ReadQr(const GrayImage& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() < static_cast<size_t>(image.width) * image.height) {
    return absl::InvalidArgumentError("empty image");
  }
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::QRCode);
  const ZXing::Result result = ZXing::ReadBarcode(
      ZXing::ImageView(image.pixels.data(), image.width, image.height, ZXing::ImageFormat::Lum),
      hints);
  if (!result.isValid()) return absl::NotFoundError("no QR code found in the image");
  return result.text();
}

absl::StatusOr<std::string> ReadQrFromImage(absl::string_view bytes) {
  absl::StatusOr<GrayImage> image = DecodeImage(bytes);
  if (!image.ok()) return image.status();
  return ReadQr(*image);
}

}  // namespace turnout::client
