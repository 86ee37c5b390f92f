// QR codes for ticket codes: the module matrix, a PNG for e-mail/print, an SVG for web pages.
//
// Symbols are made by libqrencode at error-correction level M. Upper-case Base32 lies in the QR
// alphanumeric set, so a 140-character ticket code fits in version 7 or lower.
#ifndef TURNOUT_SERVER_DOMAIN_QR_H_
#define TURNOUT_SERVER_DOMAIN_QR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::domain {

// Light modules around the symbol, as the QR standard requires for reliable scanning.
inline constexpr int kQrQuietZoneModules = 4;

// A QR symbol without its quiet zone.
struct QrSymbol {
  int version = 0;         // 1..40
  int width = 0;           // modules per side: 17 + 4 * version
  std::vector<bool> dark;  // width * width modules, row-major, true = dark
};

// Encodes `text` (case-sensitive; libqrencode picks the most compact modes). Returns
// InvalidArgument for empty text, text containing NUL, or text too long for any QR version.
absl::StatusOr<QrSymbol> EncodeQr(absl::string_view text);

// An 8-bit grayscale PNG with `scale` pixels per module (1..32) and the quiet zone:
// (width + 8) * scale pixels per side.
absl::StatusOr<std::string> RenderQrPng(absl::string_view text, int scale = 8);

// A standalone SVG document: a white background and one black <path>, viewBox in modules including
// the quiet zone, crispEdges so it stays sharp at any size. Each row's runs of dark modules are one
// "M x y h n v 1 h -n z" subpath.
absl::StatusOr<std::string> RenderQrSvg(absl::string_view text);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_QR_H_
