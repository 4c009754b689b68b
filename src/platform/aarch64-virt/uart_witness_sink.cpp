#include "platform/aarch64-virt/uart_witness_sink.hpp"

#include <array>
#include <cstring>

#include "platform/aarch64-virt/console.hpp"

namespace rvm::bm {

void UartWitnessSink::accept(const WitnessRecord& record) {
    std::array<std::uint8_t, sizeof(record.raw)> bytes{};
    std::memcpy(bytes.data(), &record.raw, bytes.size());
    con() << "rvm-bm: W " << Bytes{bytes} << '\n';
}

void UartWitnessSink::segment_closed(std::uint64_t segment, const MacKey& key) {
    con() << "rvm-bm: K " << Dec{segment} << ' ' << Bytes{key.bytes} << '\n';
}

}  // namespace rvm::bm
