#include "server/domain/qr.h"

#include <png.h>
#include <qrencode.h>

#include <cerrno>
#include <csetjmp>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace turnout::domain {
namespace {

constexpr int kMaxPngScale = 32;

struct QrcodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};

// libpng's write callback: appends to the std::string passed as io pointer.
void AppendToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    out->append(reinterpret_cast<const char*>(data), length);
  } catch (...) {
    ok = false;
  }
  // png_error longjmps, so it must not run inside the try block.
  if (!ok) png_error(png, "out of memory");
}

void FlushNothing(png_structp) {}

// Writes `symbol` into `out`. Kept apart from RenderQrPng so that only trivially destructible
// locals live between setjmp and a libpng error's longjmp.
bool WritePng(const QrSymbol& symbol, int scale, const png_bytep row, std::string* out) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  const int side = (symbol.width + 2 * kQrQuietZoneModules) * scale;
  png_set_write_fn(png, out, AppendToString, FlushNothing);
  png_set_IHDR(png, info, side, side, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < side; ++y) {
    const int my = y / scale - kQrQuietZoneModules;
    for (int x = 0; x < side; ++x) {
      const int mx = x / scale - kQrQuietZoneModules;
      const bool dark = my >= 0 && my < symbol.width && mx >= 0 && mx < symbol.width &&
                        symbol.dark[my * symbol.width + mx];
      row[x] = dark ? 0 : 255;
    }
    png_write_row(png, row);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

absl::StatusOr<QrSymbol> EncodeQr(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("qr: empty text");
  if (text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("qr: text contains NUL");
  }
  const std::string terminated(text);  // libqrencode wants a C string
  std::unique_ptr<QRcode, QrcodeDeleter> code(QRcode_encodeString(terminated.c_str(), /*version=*/0,
                                                                  QR_ECLEVEL_M, QR_MODE_8,
                                                                  /*casesensitive=*/1));
  if (code == nullptr) {
    if (errno == ENOMEM) return absl::ResourceExhaustedError("qr: out of memory");
    return absl::InvalidArgumentError("qr: text too long for a QR code");
  }
  QrSymbol symbol;
  symbol.version = code->version;
  symbol.width = code->width;
  symbol.dark.resize(static_cast<size_t>(code->width) * code->width);
  for (size_t i = 0; i < symbol.dark.size(); ++i) symbol.dark[i] = (code->data[i] & 1) != 0;
  return symbol;
}

absl::StatusOr<std::string> RenderQrPng(absl::string_view text, int scale) {
  if (scale < 1 || scale > kMaxPngScale) {
    return absl::InvalidArgumentError(absl::StrCat("qr: scale must be 1..", kMaxPngScale));
  }
  absl::StatusOr<QrSymbol> symbol = EncodeQr(text);
  if (!symbol.ok()) return symbol.status();
  std::string png;
  std::vector<png_byte> row((symbol->width + 2 * kQrQuietZoneModules) * scale);
  if (!WritePng(*symbol, scale, row.data(), &png)) {
    return absl::InternalError("qr: libpng failed to write the image");
  }
  return png;
}

absl::StatusOr<std::string> RenderQrSvg(absl::string_view text) {
  absl::StatusOr<QrSymbol> symbol = EncodeQr(text);
  if (!symbol.ok()) return symbol.status();
  const int w = symbol->width;
  const int side = w + 2 * kQrQuietZoneModules;
  std::string path;
  for (int y = 0; y < w; ++y) {
    for (int x = 0; x < w;) {
      if (!symbol->dark[y * w + x]) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < w && symbol->dark[y * w + x + run]) ++run;
      absl::StrAppend(&path, "M", x + kQrQuietZoneModules, " ", y + kQrQuietZoneModules, "h", run,
                      "v1h-", run, "z");
      x += run;
    }
  }
  return absl::StrCat("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", side, " ", side,
                      "\" shape-rendering=\"crispEdges\">"
                      "<rect width=\"",
                      side, "\" height=\"", side, "\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                      path, "\"/></svg>\n");
}

}  // namespace turnout::domain
