// Bytes through a 256-entry map: how the u8·s8 structured GEMM
// (torch/u8s8_gemm.h) turns each row of the activation operand into its
// terms' unsigned operands on every call, one lookup per byte per term.
//
// Variants:
//   kScalar   one load from the map per byte; runs everywhere and is the
//             reference.
//   kAvx512   for CPUs with AVX-512 F, BW and VBMI: the map's four 64-byte
//             quarters stay in registers, vpermi2b looks 64 bytes up in the
//             lower two quarters and in the upper two at once (by the low 7
//             bits of each byte), and the byte's top bit picks one of the
//             two results. Tails are masked loads and stores, so no byte
//             outside the spans is read or written.
// The fastest variant the CPU runs is chosen at run time.
//
// Thread-safety: pure functions; concurrent calls are safe while their
// outputs do not overlap.
#ifndef TRANSAXX_LIBS_APPROX_CPU_BYTE_MAP_H_
#define TRANSAXX_LIBS_APPROX_CPU_BYTE_MAP_H_

#include <array>
#include <cstdint>

namespace transaxx::approx {

using ByteMap = std::array<uint8_t, 256>;

enum class ByteMapKernel { kScalar, kAvx512 };

// Whether this CPU has the instructions `kernel` needs.
bool ByteMapKernelSupported(ByteMapKernel kernel);
// The fastest variant this CPU runs.
ByteMapKernel BestByteMapKernel();

// out[i] = map[in[i]] for i < n.
// REQUIRES: n >= 0; out and in hold n bytes; ByteMapKernelSupported(kernel).
void MapBytes(const ByteMap& map, const uint8_t* in, int64_t n, uint8_t* out,
              ByteMapKernel kernel = BestByteMapKernel());

// out[2i] = first[in[i]] and out[2i + 1] = second[in[i]] for i < n: two
// terms interleaved along the depth, as the u8·s8 layout pairs them.
// REQUIRES: n >= 0; in holds n bytes, out 2n; ByteMapKernelSupported(kernel).
void MapBytesInterleaved(const ByteMap& first, const ByteMap& second, const uint8_t* in, int64_t n,
                         uint8_t* out, ByteMapKernel kernel = BestByteMapKernel());

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CPU_BYTE_MAP_H_
