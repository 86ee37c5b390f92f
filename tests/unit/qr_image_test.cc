// Reading ticket QR codes from PNG and JPEG images (client-lib/qr_image.h), as turnout-scan does
// with dropped files: the server's own PNG, a JPEG of it, and files that are not images.
#include "client-lib/qr_image.h"

#include <png.h>

#include <cstdio>
#include <string>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/qr.h"

namespace turnout::client {
namespace {

using ::testing::HasSubstr;

constexpr char kCode[] =
    "AEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIB"
    "AEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQCAIBAEAQ";

std::string ServerPng() {
  absl::StatusOr<std::string> png = domain::RenderQrPng(kCode, 4);
  EXPECT_TRUE(png.ok()) << png.status();
  return png.ok() ? *png : "";
}

// A JPEG of `image` at `quality`, as a phone or a scanner app would save it.
std::string EncodeJpeg(const GrayImage& image, int quality) {
  jpeg_compress_struct info;
  jpeg_error_mgr error;
  info.err = jpeg_std_error(&error);
  jpeg_create_compress(&info);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&info, &buffer, &size);
  info.image_width = image.width;
  info.image_height = image.height;
  info.input_components = 1;
  info.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(image.pixels.data()) + info.next_scanline * image.width;
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  std::string jpeg(reinterpret_cast<char*>(buffer), size);
  free(buffer);
  return jpeg;
}

std::string EncodePng(const GrayImage& image) {
  png_image info{};
  info.version = PNG_IMAGE_VERSION;
  info.width = image.width;
  info.height = image.height;
  info.format = PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  EXPECT_TRUE(png_image_write_to_memory(&info, nullptr, &size, 0, image.pixels.data(), 0, nullptr));
  std::string png(size, '\0');
  EXPECT_TRUE(
      png_image_write_to_memory(&info, png.data(), &size, 0, image.pixels.data(), 0, nullptr));
  png.resize(size);
  return png;
}

uint32_t Crc32(absl::string_view bytes) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

void PutBigEndian(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

TEST(QrImageTest, ReadsTheServersPng) {
  absl::StatusOr<std::string> code = ReadQrFromImage(ServerPng());
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, kCode);
}

TEST(QrImageTest, ReadsAJpegOfIt) {
  absl::StatusOr<GrayImage> image = DecodePng(ServerPng());
  ASSERT_TRUE(image.ok());
  const std::string jpeg = EncodeJpeg(*image, 75);
  absl::StatusOr<std::string> code = ReadQrFromImage(jpeg);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, kCode);
}

TEST(QrImageTest, AnImageWithoutACodeIsNotFound) {
  GrayImage white{200, 200, std::vector<uint8_t>(200 * 200, 255)};
  EXPECT_TRUE(absl::IsNotFound(ReadQrFromImage(EncodePng(white)).status()));
  EXPECT_TRUE(absl::IsNotFound(ReadQrFromImage(EncodeJpeg(white, 90)).status()));
}

TEST(QrImageTest, WhatIsNotAnImageIsInvalidArgumentNeverACrash) {
  const std::string png = ServerPng();
  absl::StatusOr<GrayImage> image = DecodePng(png);
  ASSERT_TRUE(image.ok());
  const std::string jpeg = EncodeJpeg(*image, 75);
  for (const std::string& bad :
       {std::string(), std::string("GIF89a..."), std::string("\x89PNG\r\n\x1a\n", 8),
        png.substr(0, png.size() / 2), std::string("\xff\xd8\xff", 3), jpeg.substr(0, 200),
        std::string(10000, '\xff')}) {
    absl::StatusOr<std::string> code = ReadQrFromImage(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(code.status()) || absl::IsNotFound(code.status()))
        << code.status();
    EXPECT_FALSE(code.ok());
  }
  EXPECT_THAT(std::string(ReadQrFromImage("GIF89a").status().message()),
              HasSubstr("not a PNG or JPEG"));
}

TEST(QrImageTest, AHugeImageIsRefusedBeforeItIsDecoded) {
  // The server's PNG with its header claiming 100000 x 100000 pixels (and a correct checksum).
  std::string png = ServerPng();
  PutBigEndian(png, 16, 100000);
  PutBigEndian(png, 20, 100000);
  PutBigEndian(png, 29, Crc32(absl::string_view(png).substr(12, 17)));
  absl::StatusOr<GrayImage> decoded = DecodeImage(png);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(std::string(decoded.status().message()), HasSubstr("too large"));
}

}  // namespace
}  // namespace turnout::client
