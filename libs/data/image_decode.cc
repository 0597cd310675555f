#include "libs/data/image_decode.h"

// jpeglib.h needs FILE and size_t declared first.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on
#include <png.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace transaxx::data {
namespace {

// Both decoders report errors by longjmp (libjpeg from its error_exit hook,
// libpng from its error function). The functions holding the setjmp keep
// their state in structs owned by the caller and hold no object with a
// destructor of their own, so jumping back into them skips nothing.

// Whether an image of height x width pixels is refused; if so, says why in
// `message`.
template <size_t N>
bool TooLarge(int64_t height, int64_t width, char (&message)[N]) {
  if (height * width <= kMaxDecodedPixels) return false;
  std::snprintf(message, N, "%ldx%ld pixels, more than the %ld this reader decodes",
                static_cast<long>(width), static_cast<long>(height),
                static_cast<long>(kMaxDecodedPixels));
  return true;
}

// Copies row y of interleaved RGB into the planes of `image`.
void ScatterRow(const unsigned char* rgb, int64_t y, RgbImage& image) {
  const int64_t plane = image.height * image.width;
  uint8_t* red = image.pixels.data() + y * image.width;
  for (int64_t x = 0; x < image.width; ++x) {
    red[x] = rgb[3 * x];
    red[x + plane] = rgb[3 * x + 1];
    red[x + 2 * plane] = rgb[3 * x + 2];
  }
}

// --- JPEG -------------------------------------------------------------------

struct JpegState {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void OnJpegError(j_common_ptr cinfo) {
  auto* state = static_cast<JpegState*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, state->message);
  std::longjmp(state->jump, 1);
}

// libjpeg reports data that ends early as a warning and decodes the rest as
// gray; PIL refuses such a file, so it is an error here. Other warnings
// (extraneous bytes, bad Huffman codes) PIL tolerates, and so does this.
void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) OnJpegError(cinfo);
  ++cinfo->err->num_warnings;
}

// PIL reads CMYK JPEGs as Adobe's inverted CMYK and converts them to RGB as
// r = (255 - k) - (255 - k) * c / 255 (rounded). In the inverted samples
// libjpeg returns, 255 - k is k' and c is 255 - c'.
void CmykToRgb(unsigned char* row, int64_t width) {
  for (int64_t x = 0; x < width; ++x) {
    const unsigned char* in = row + 4 * x;
    const int nk = in[3];
    for (int c = 0; c < 3; ++c) {
      const int t = (255 - in[c]) * nk + 128;
      row[3 * x + c] = static_cast<unsigned char>(nk - (((t >> 8) + t) >> 8));
    }
  }
}

// Decodes `size` bytes at `data` into `image`; false with state.message set
// on error.
bool DecodeJpegInto(const unsigned char* data, size_t size, JpegState& state, RgbImage& image) {
  j_decompress_ptr cinfo = &state.cinfo;
  cinfo->err = jpeg_std_error(&state.err);
  state.err.error_exit = OnJpegError;
  state.err.emit_message = OnJpegMessage;
  cinfo->client_data = &state;
  if (setjmp(state.jump)) {
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  if (TooLarge(cinfo->image_height, cinfo->image_width, state.message)) {
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  const bool cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(cinfo);
  image.height = cinfo->output_height;
  image.width = cinfo->output_width;
  image.pixels.resize(static_cast<size_t>(3 * image.height * image.width));
  JSAMPARRAY row = (*cinfo->mem->alloc_sarray)(
      reinterpret_cast<j_common_ptr>(cinfo), JPOOL_IMAGE,
      cinfo->output_width * static_cast<JDIMENSION>(cinfo->output_components), 1);
  while (cinfo->output_scanline < cinfo->output_height) {
    const int64_t y = cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, row, 1);
    if (cmyk) CmykToRgb(row[0], image.width);
    ScatterRow(row[0], y, image);
  }
  // No jpeg_finish_decompress: the image is complete, and what follows it
  // (a missing end marker, trailing bytes) does not matter to PIL either.
  jpeg_destroy_decompress(cinfo);
  return true;
}

// --- PNG --------------------------------------------------------------------

struct PngState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const unsigned char* data = nullptr;
  size_t size = 0, offset = 0;
  char message[256] = "";
};

[[noreturn]] void OnPngError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void OnPngWarning(png_structp, png_const_charp) {}

void ReadPngBytes(png_structp png, png_bytep out, size_t n) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (n > state->size - state->offset) {
    png_error(png, "the file ends before the image does (truncated)");
  }
  std::memcpy(out, state->data + state->offset, n);
  state->offset += n;
}

// Decodes state.data into `image`, through `interleaved` and `rows`
// (scratch owned by the caller); false with state.message set on error.
bool DecodePngInto(PngState& state, std::vector<unsigned char>& interleaved,
                   std::vector<png_bytep>& rows, RgbImage& image) {
  state.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, OnPngError, OnPngWarning);
  if (state.png != nullptr) state.info = png_create_info_struct(state.png);
  if (state.info == nullptr) {
    png_destroy_read_struct(&state.png, nullptr, nullptr);
    std::snprintf(state.message, sizeof state.message, "out of memory");
    return false;
  }
  if (setjmp(png_jmpbuf(state.png))) {
    png_destroy_read_struct(&state.png, &state.info, nullptr);
    return false;
  }
  png_set_read_fn(state.png, &state, ReadPngBytes);
  png_read_info(state.png, state.info);
  const int64_t height = png_get_image_height(state.png, state.info);
  const int64_t width = png_get_image_width(state.png, state.info);
  if (TooLarge(height, width, state.message)) {
    png_destroy_read_struct(&state.png, &state.info, nullptr);
    return false;
  }
  const int color_type = png_get_color_type(state.png, state.info);
  if (png_get_bit_depth(state.png, state.info) == 16) png_set_strip_16(state.png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(state.png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) {
    png_set_expand_gray_1_2_4_to_8(state.png);
    png_set_gray_to_rgb(state.png);
  }
  // Expanding a palette also turns its tRNS chunk into alpha.
  if ((color_type & PNG_COLOR_MASK_ALPHA) != 0 ||
      png_get_valid(state.png, state.info, PNG_INFO_tRNS) != 0) {
    png_set_strip_alpha(state.png);
  }
  png_set_interlace_handling(state.png);
  png_read_update_info(state.png, state.info);
  if (png_get_rowbytes(state.png, state.info) != static_cast<size_t>(3 * width)) {
    png_error(state.png, "unexpected layout after conversion to 8-bit RGB");
  }
  interleaved.resize(static_cast<size_t>(3 * height * width));
  rows.resize(static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) rows[y] = interleaved.data() + 3 * y * width;
  png_read_image(state.png, rows.data());
  png_destroy_read_struct(&state.png, &state.info, nullptr);
  image.height = height;
  image.width = width;
  image.pixels.resize(interleaved.size());
  for (int64_t y = 0; y < height; ++y) ScatterRow(rows[y], y, image);
  return true;
}

}  // namespace

absl::StatusOr<RgbImage> DecodeImage(absl::string_view bytes, const std::string& name) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  RgbImage image;
  if (bytes.size() >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
    JpegState state;
    if (!DecodeJpegInto(data, bytes.size(), state, image)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": corrupt JPEG: ", state.message));
    }
    return image;
  }
  if (bytes.size() >= 8 && png_sig_cmp(data, 0, 8) == 0) {
    PngState state;
    state.data = data;
    state.size = bytes.size();
    std::vector<unsigned char> interleaved;
    std::vector<png_bytep> rows;
    if (!DecodePngInto(state, interleaved, rows, image)) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": corrupt PNG: ", state.message));
    }
    return image;
  }
  std::string start;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 8); ++i) {
    absl::StrAppendFormat(&start, "%s%02x", i == 0 ? "" : " ", data[i]);
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: neither a JPEG nor a PNG file: it starts with the bytes [%s] (JPEG: ff d8 ff, PNG: "
      "89 50 4e 47 0d 0a 1a 0a)",
      name, start));
}

}  // namespace transaxx::data
