// UartWitnessSink: the image's WitnessSink. The log leaves the machine over
// the console as text lines the host tool (host_tool/bm_witness.cpp) turns
// into a sealed witness file:
//   "rvm-bm: W <128 hex digits>"          one record, its 64 raw bytes
//   "rvm-bm: K <segment> <32 hex digits>" segment closed, its chain key
// The chain and the keyed hashes are computed here, by the nucleus.
#pragma once

#include "nucleus/witness_log.hpp"

namespace rvm::bm {

class UartWitnessSink final : public WitnessSink {
public:
    void accept(const WitnessRecord& record) override;
    void segment_closed(std::uint64_t segment, const MacKey& key) override;
};

}  // namespace rvm::bm
