#include "host/witness/forward_secure.hpp"

#include <sodium.h>
#include <unistd.h>

#include <cstdio>

#include <charconv>
#include <cstring>
#include <string_view>
#include <vector>

#include "host/witness/signing_key.hpp"
#include "host/witness/witness_reader.hpp"

namespace rvm::host {

namespace {

constexpr std::string_view kVerifyTag = "rvm-fss-verify-v1";
constexpr std::array<std::uint8_t, 8> kStateMagic = {'R', 'V', 'M', 'F', 'S', 'S', 'T', 0};
constexpr std::uint32_t kStateVersion = 1;
constexpr std::size_t kStateBytes = 96;

// KDF(key, label): keyed BLAKE2b-256 of a domain label.
FssSecret kdf(const FssSecret& key, std::string_view label) {
    FssSecret out{};
    // SAFETY: the label's chars are read as bytes, which any object allows.
    const auto* msg = reinterpret_cast<const unsigned char*>(label.data());
    // CANNOT FAIL: 32-byte key and output are within BLAKE2b's limits.
    (void)crypto_generichash(out.data(), out.size(), msg, label.size(), key.data(), key.size());
    return out;
}

template <typename T>
void put(std::array<std::uint8_t, kStateBytes>& b, std::size_t at, const T& v) {
    std::memcpy(b.data() + at, &v, sizeof v);
}
template <typename T>
T get(const std::vector<std::uint8_t>& b, std::size_t at) {
    T v;
    std::memcpy(&v, b.data() + at, sizeof v);
    return v;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

}  // namespace

bool fss_epoch_of(const FssParams& p, std::uint64_t realtime_ns, std::uint64_t& epoch) {
    if (p.interval_ns == 0 || realtime_ns < p.start_ns) return false;
    epoch = (realtime_ns - p.start_ns) / p.interval_ns;
    return true;
}

FssKeyChain FssKeyChain::from_seed(const FssSecret& verify_seed) {
    return FssKeyChain(kdf(verify_seed, "rvm-fss-state-0"), 0);
}

FssKeyChain::FssKeyChain(FssKeyChain&& other) noexcept : state_(other.state_), epoch_(other.epoch_) {
    sodium_memzero(other.state_.data(), other.state_.size());
}

FssKeyChain& FssKeyChain::operator=(FssKeyChain&& other) noexcept {
    if (this != &other) {
        state_ = other.state_;
        epoch_ = other.epoch_;
        sodium_memzero(other.state_.data(), other.state_.size());
    }
    return *this;
}

FssKeyChain::~FssKeyChain() { sodium_memzero(state_.data(), state_.size()); }

FssSecret FssKeyChain::epoch_key() const { return kdf(state_, "rvm-fss-seal-key"); }

void FssKeyChain::evolve_to(std::uint64_t target) {
    while (epoch_ < target) {
        FssSecret next = kdf(state_, "rvm-fss-evolve");
        state_ = next;
        sodium_memzero(next.data(), next.size());
        ++epoch_;
    }
}

std::array<std::uint8_t, 32> fss_mac(const FssSecret& epoch_key, std::span<const std::uint8_t> message) {
    std::array<std::uint8_t, 32> out{};
    // CANNOT FAIL: see kdf().
    (void)crypto_generichash(out.data(), out.size(), message.data(), message.size(), epoch_key.data(),
                             epoch_key.size());
    return out;
}

Result<FssVerifyKey, IoError> load_fss_verify_key(const std::string& path) {
    RVM_TRY_VOID(require_private(path));
    auto bytes = read_regular_file(path, 512);
    if (!bytes) return err(bytes.error());
    std::string text(bytes.value().begin(), bytes.value().end());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    std::vector<std::string_view> words;
    std::string_view rest(text);
    while (!rest.empty()) {
        const auto space = rest.find(' ');
        words.push_back(rest.substr(0, space));
        if (space == std::string_view::npos) break;
        rest.remove_prefix(space + 1);
    }
    FssVerifyKey key;
    const bool ok = words.size() == 4 && words[0] == kVerifyTag && from_hex(words[1], key.seed) &&
                    parse_u64(words[2], key.params.start_ns) && parse_u64(words[3], key.params.interval_ns) &&
                    key.params.interval_ns >= kFssMinIntervalNs;
    sodium_memzero(text.data(), text.size());
    if (!ok) return err(IoError{IoErrc::kBadKeyFile, 0});
    return key;
}

Result<void, IoError> save_fss_verify_key(const std::string& path, const FssVerifyKey& key) {
    std::string text = std::string(kVerifyTag) + " " + to_hex(key.seed) + " " + std::to_string(key.params.start_ns) +
                       " " + std::to_string(key.params.interval_ns) + "\n";
    std::vector<std::uint8_t> bytes(text.begin(), text.end());
    auto w = write_new_file(path, bytes, 0600);
    sodium_memzero(text.data(), text.size());
    sodium_memzero(bytes.data(), bytes.size());
    return w;
}

Result<FssSealingState, IoError> FssSealingState::create(const std::string& path, const FssVerifyKey& key) {
    FssSealingState s(path, key.params, FssKeyChain::from_seed(key.seed));
    std::array<std::uint8_t, kStateBytes> b{};
    // store() replaces; create must not, so write the first version exclusively.
    put(b, 0, kStateMagic);
    put(b, 8, kStateVersion);
    put(b, 16, s.params_.start_ns);
    put(b, 24, s.params_.interval_ns);
    put(b, 32, s.chain_.epoch());
    put(b, 48, s.chain_.state());
    auto w = write_new_file(path, b, 0600);
    sodium_memzero(b.data(), b.size());
    if (!w) return err(w.error());
    return s;
}

Result<FssSealingState, IoError> FssSealingState::load(const std::string& path) {
    RVM_TRY_VOID(require_private(path));
    auto bytes = read_regular_file(path, kStateBytes);
    if (!bytes) return err(bytes.error());
    std::vector<std::uint8_t>& b = bytes.value();
    const bool ok = b.size() == kStateBytes && get<std::array<std::uint8_t, 8>>(b, 0) == kStateMagic &&
                    get<std::uint32_t>(b, 8) == kStateVersion && get<std::uint64_t>(b, 24) >= kFssMinIntervalNs;
    if (!ok) {
        sodium_memzero(b.data(), b.size());
        return err(IoError{IoErrc::kBadKeyFile, 0});
    }
    const FssParams params{get<std::uint64_t>(b, 16), get<std::uint64_t>(b, 24)};
    FssSecret state = get<FssSecret>(b, 48);
    FssSealingState s(path, params, FssKeyChain(state, get<std::uint64_t>(b, 32)));
    sodium_memzero(state.data(), state.size());
    sodium_memzero(b.data(), b.size());
    return s;
}

Result<void, IoError> FssSealingState::evolve_to(std::uint64_t target) {
    if (target <= chain_.epoch()) return {};
    chain_.evolve_to(target);
    return store();
}

Result<void, IoError> FssSealingState::store() const {
    std::array<std::uint8_t, kStateBytes> b{};
    put(b, 0, kStateMagic);
    put(b, 8, kStateVersion);
    put(b, 16, params_.start_ns);
    put(b, 24, params_.interval_ns);
    put(b, 32, chain_.epoch());
    put(b, 48, chain_.state());
    const std::string tmp = path_ + ".new";
    (void)::unlink(tmp.c_str());  // a leftover of an interrupted evolution holds a newer or equal state only
    auto w = write_new_file(tmp, b, 0600);
    sodium_memzero(b.data(), b.size());
    if (!w) return err(w.error());
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) return err(IoError{IoErrc::kWrite, errno});
    return sync_parent_dir(path_);
}

}  // namespace rvm::host
