// Ed25519 keys for sealing witness segments: a public key value type and a
// keypair that owns (and wipes) its secret. Key files are hex text.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "host/posix/posix_io.hpp"
#include "nucleus/result.hpp"

namespace rvm::host {

struct PublicKey {
    std::array<std::uint8_t, 32> bytes{};
    friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

using Signature = std::array<std::uint8_t, 64>;

class SigningKeyPair {
public:
    // A fresh keypair from the OS CSPRNG.
    [[nodiscard]] static Result<SigningKeyPair, IoError> generate();
    // Deterministic: the same 32-byte seed always gives the same keypair.
    [[nodiscard]] static Result<SigningKeyPair, IoError> from_seed(std::span<const std::uint8_t, 32> seed);
    // The secret file holds the seed as 64 hex digits; refused if group or
    // others may access it (kBadKeyFile with EACCES).
    [[nodiscard]] static Result<SigningKeyPair, IoError> load(const std::string& path);
    // Mode 0600, never overwrites.
    [[nodiscard]] Result<void, IoError> save(const std::string& path) const;

    SigningKeyPair(SigningKeyPair&& other) noexcept;
    SigningKeyPair& operator=(SigningKeyPair&& other) noexcept;
    SigningKeyPair(const SigningKeyPair&) = delete;
    SigningKeyPair& operator=(const SigningKeyPair&) = delete;
    ~SigningKeyPair();

    // Copies of the secret are explicit, so each one is visibly owned and wiped.
    [[nodiscard]] SigningKeyPair clone() const;

    [[nodiscard]] const PublicKey& public_key() const { return public_; }
    [[nodiscard]] Signature sign(std::span<const std::uint8_t> message) const;

private:
    SigningKeyPair() = default;
    [[nodiscard]] bool derive(std::span<const std::uint8_t, 32> seed);
    void wipe();

    PublicKey public_;
    std::array<std::uint8_t, 64> secret_{};  // libsodium layout: seed || public key
};

[[nodiscard]] bool signature_valid(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& sig);

// The public key file: 64 hex digits and a newline. Mode 0644, never overwrites.
[[nodiscard]] Result<PublicKey, IoError> load_public_key(const std::string& path);
[[nodiscard]] Result<void, IoError> save_public_key(const std::string& path, const PublicKey& key);

// Fails unless `path` exists with no group or other permission bits.
[[nodiscard]] Result<void, IoError> require_private(const std::string& path);

[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> bytes);
// Exactly out.size()*2 hex digits, optionally followed by whitespace.
[[nodiscard]] bool from_hex(std::string_view text, std::span<std::uint8_t> out);

}  // namespace rvm::host
