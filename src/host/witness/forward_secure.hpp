// Forward-secure sealing keys (docs/witness-format.md, "Forward security").
// The verifier keeps a random seed V; the host gets only the sealing state
// S_0 = KDF(V) with a start time and an interval. Every interval the state
// evolves one way, S_{e+1} = KDF(S_e), and the old state is wiped, so a host
// taken over in epoch e holds no key of an earlier epoch. Each seal carries a
// MAC under K_e = KDF(S_e); the verifier derives S_e from V.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "host/posix/posix_io.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

using FssSecret = std::array<std::uint8_t, 32>;

struct FssParams {
    std::uint64_t start_ns = 0;     // wall-clock (CLOCK_REALTIME) ns when epoch 0 begins
    std::uint64_t interval_ns = 0;  // length of one epoch
    friend bool operator==(const FssParams&, const FssParams&) = default;
};
inline constexpr std::uint64_t kFssMinIntervalNs = 10'000'000;           // 10 ms
inline constexpr std::uint64_t kFssDefaultIntervalNs = 900'000'000'000;  // 15 minutes
// The verifier derives S_e by e steps; it refuses epochs beyond this many.
inline constexpr std::uint64_t kFssMaxEpoch = std::uint64_t{1} << 32;

// The epoch wall-clock time `realtime_ns` falls in; false before start_ns.
[[nodiscard]] bool fss_epoch_of(const FssParams& p, std::uint64_t realtime_ns, std::uint64_t& epoch);

// S_e and its epoch; wipes itself. Only moves forward.
class FssKeyChain {
public:
    // The state of epoch 0, derived from the verification seed.
    [[nodiscard]] static FssKeyChain from_seed(const FssSecret& verify_seed);
    FssKeyChain(const FssSecret& state, std::uint64_t epoch) : state_(state), epoch_(epoch) {}
    FssKeyChain(const FssKeyChain&) = delete;
    FssKeyChain& operator=(const FssKeyChain&) = delete;
    FssKeyChain(FssKeyChain&& other) noexcept;
    FssKeyChain& operator=(FssKeyChain&& other) noexcept;
    ~FssKeyChain();

    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const FssSecret& state() const { return state_; }
    // K_e: the MAC key of this epoch. The caller wipes its copy.
    [[nodiscard]] FssSecret epoch_key() const;
    // S_e -> S_target (target >= epoch()); each replaced state is wiped.
    void evolve_to(std::uint64_t target);

private:
    FssSecret state_;
    std::uint64_t epoch_;
};

// MAC of `message` under an epoch key (keyed BLAKE2b-256).
[[nodiscard]] std::array<std::uint8_t, 32> fss_mac(const FssSecret& epoch_key, std::span<const std::uint8_t> message);

// The verifier's key: text "rvm-fss-verify-v1 <64 hex V> <start_ns> <interval_ns>\n", mode 0600.
struct FssVerifyKey {
    FssSecret seed{};
    FssParams params;
};
[[nodiscard]] Result<FssVerifyKey, IoError> load_fss_verify_key(const std::string& path);
[[nodiscard]] Result<void, IoError> save_fss_verify_key(const std::string& path, const FssVerifyKey& key);

// The host's sealing state file: 96 bytes, mode 0600, rewritten (new file,
// fsync, rename, fsync of the directory) on every evolution.
//   [0..8) "RVMFSST\0"  [8..12) version 1  [12..16) zero
//   [16..24) start_ns  [24..32) interval_ns  [32..40) epoch  [40..48) zero
//   [48..80) S_epoch   [80..96) zero
class FssSealingState {
public:
    // Writes a new state file (never overwrites) for epoch 0 of `key`.
    [[nodiscard]] static Result<FssSealingState, IoError> create(const std::string& path, const FssVerifyKey& key);
    [[nodiscard]] static Result<FssSealingState, IoError> load(const std::string& path);

    [[nodiscard]] const FssParams& params() const { return params_; }
    [[nodiscard]] std::uint64_t epoch() const { return chain_.epoch(); }
    [[nodiscard]] FssSecret epoch_key() const { return chain_.epoch_key(); }
    // Evolves to `target` and rewrites the file; the memory copy is evolved
    // (and the old state wiped) even if the rewrite fails.
    [[nodiscard]] Result<void, IoError> evolve_to(std::uint64_t target);

private:
    FssSealingState(std::string path, const FssParams& params, FssKeyChain chain)
        : path_(std::move(path)), params_(params), chain_(std::move(chain)) {}
    [[nodiscard]] Result<void, IoError> store() const;

    std::string path_;
    FssParams params_;
    FssKeyChain chain_;
};

}  // namespace rvm::host
