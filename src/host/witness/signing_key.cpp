#include "host/witness/signing_key.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>

#include <string_view>
#include <vector>

#include "host/witness/sodium_hash.hpp"
#include "host/witness/witness_reader.hpp"

namespace rvm::host {

static_assert(crypto_sign_PUBLICKEYBYTES == sizeof(PublicKey::bytes));
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);
static_assert(crypto_sign_BYTES == sizeof(Signature));

namespace {

// Key files are tiny; anything bigger is not one of ours.
constexpr std::size_t kMaxKeyFileBytes = 4096;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<void, IoError> read_hex_file(const std::string& path, std::span<std::uint8_t> out) {
    auto bytes = read_regular_file(path, kMaxKeyFileBytes);
    if (!bytes) return err(bytes.error());
    const auto& b = bytes.value();
    const std::string text(b.begin(), b.end());
    if (!from_hex(text, out)) return err(IoError{IoErrc::kBadKeyFile, 0});
    return {};
}

Result<void, IoError> write_hex_file(const std::string& path, std::span<const std::uint8_t> key, mode_t mode) {
    std::string text = to_hex(key);
    text.push_back('\n');
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    return write_new_file(path, bytes, mode);
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        s.push_back(kDigits[b >> 4]);
        s.push_back(kDigits[b & 0xf]);
    }
    return s;
}

bool from_hex(std::string_view text, std::span<std::uint8_t> out) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    if (text.size() != out.size() * 2) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_digit(text[2 * i]);
        const int lo = hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return true;
}

bool SigningKeyPair::derive(std::span<const std::uint8_t, 32> seed) {
    return crypto_sign_seed_keypair(public_.bytes.data(), secret_.data(), seed.data()) == 0;
}

Result<SigningKeyPair, IoError> SigningKeyPair::generate() {
    if (!sodium_ready()) return err(IoError{IoErrc::kCrypto, 0});
    std::array<std::uint8_t, 32> seed{};
    randombytes_buf(seed.data(), seed.size());
    SigningKeyPair kp;
    const bool ok = kp.derive(seed);
    sodium_memzero(seed.data(), seed.size());
    if (!ok) return err(IoError{IoErrc::kCrypto, 0});
    return kp;
}

Result<SigningKeyPair, IoError> SigningKeyPair::from_seed(std::span<const std::uint8_t, 32> seed) {
    if (!sodium_ready()) return err(IoError{IoErrc::kCrypto, 0});
    SigningKeyPair kp;
    if (!kp.derive(seed)) return err(IoError{IoErrc::kCrypto, 0});
    return kp;
}

Result<void, IoError> require_private(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return err(IoError{IoErrc::kOpen, errno});
    // Like ssh: a secret readable by others is refused, not used.
    if ((st.st_mode & 077) != 0) return err(IoError{IoErrc::kBadKeyFile, EACCES});
    return {};
}

Result<SigningKeyPair, IoError> SigningKeyPair::load(const std::string& path) {
    if (!sodium_ready()) return err(IoError{IoErrc::kCrypto, 0});
    RVM_TRY_VOID(require_private(path));
    std::array<std::uint8_t, 32> seed{};
    if (auto r = read_hex_file(path, seed); !r) return err(r.error());
    SigningKeyPair kp;
    const bool ok = kp.derive(seed);
    sodium_memzero(seed.data(), seed.size());
    if (!ok) return err(IoError{IoErrc::kCrypto, 0});
    return kp;
}

Result<void, IoError> SigningKeyPair::save(const std::string& path) const {
    // The seed is the first half of libsodium's secret key.
    return write_hex_file(path, std::span<const std::uint8_t>(secret_.data(), 32), 0600);
}

SigningKeyPair::SigningKeyPair(SigningKeyPair&& other) noexcept : public_(other.public_), secret_(other.secret_) {
    other.wipe();
}

SigningKeyPair& SigningKeyPair::operator=(SigningKeyPair&& other) noexcept {
    if (this != &other) {
        public_ = other.public_;
        secret_ = other.secret_;
        other.wipe();
    }
    return *this;
}

SigningKeyPair::~SigningKeyPair() { wipe(); }

void SigningKeyPair::wipe() { sodium_memzero(secret_.data(), secret_.size()); }

SigningKeyPair SigningKeyPair::clone() const {
    SigningKeyPair kp;
    kp.public_ = public_;
    kp.secret_ = secret_;
    return kp;
}

Signature SigningKeyPair::sign(std::span<const std::uint8_t> message) const {
    Signature sig{};
    // CANNOT FAIL: crypto_sign_detached only reports failure for a null output.
    (void)crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
    return sig;
}

bool signature_valid(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig) {
    return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

Result<PublicKey, IoError> load_public_key(const std::string& path) {
    PublicKey key;
    if (auto r = read_hex_file(path, key.bytes); !r) return err(r.error());
    return key;
}

Result<void, IoError> save_public_key(const std::string& path, const PublicKey& key) {
    return write_hex_file(path, key.bytes, 0644);
}

}  // namespace rvm::host
