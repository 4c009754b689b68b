// Result<T, E>: the nucleus's only way to report failure (no exceptions).
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "nucleus/assert.hpp"

namespace rvm {

template <typename E>
struct Err {
    E error;
};

template <typename E>
constexpr Err<E> err(E e) {
    return Err<E>{std::move(e)};
}

template <typename T, typename E>
class [[nodiscard]] Result {
public:
    // NOLINTNEXTLINE(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(T value) : ok_(true) { ::new (&value_) T(std::move(value)); }
    // NOLINTNEXTLINE(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(Err<E> e) : ok_(false) { ::new (&error_) E(std::move(e.error)); }
    constexpr Result(const Result& o) : ok_(o.ok_) {
        if (ok_) {
            ::new (&value_) T(o.value_);
        } else {
            ::new (&error_) E(o.error_);
        }
    }
    constexpr Result(Result&& o) noexcept : ok_(o.ok_) {
        if (ok_) {
            ::new (&value_) T(std::move(o.value_));
        } else {
            ::new (&error_) E(std::move(o.error_));
        }
    }
    Result& operator=(const Result&) = delete;
    constexpr ~Result() {
        if (ok_) {
            value_.~T();
        } else {
            error_.~E();
        }
    }

    [[nodiscard]] constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }

    [[nodiscard]] constexpr T& value() {
        RVM_ASSERT(ok_);
        return value_;
    }
    [[nodiscard]] constexpr const T& value() const {
        RVM_ASSERT(ok_);
        return value_;
    }
    [[nodiscard]] constexpr const E& error() const {
        RVM_ASSERT(!ok_);
        return error_;
    }

private:
    bool ok_;
    union {
        T value_;
        E error_;
    };
};

// Result<T&, E>: a checked reference (CapTable::lookup and friends).
template <typename T, typename E>
class [[nodiscard]] Result<T&, E> {
public:
    // NOLINTNEXTLINE(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(T& value) : ptr_(&value) {}
    // NOLINTNEXTLINE(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(Err<E> e) : ptr_(nullptr), error_(std::move(e.error)) {}

    [[nodiscard]] constexpr bool ok() const { return ptr_ != nullptr; }
    constexpr explicit operator bool() const { return ok(); }
    [[nodiscard]] constexpr T& value() const {
        RVM_ASSERT(ptr_ != nullptr);
        return *ptr_;
    }
    [[nodiscard]] constexpr const E& error() const {
        RVM_ASSERT(ptr_ == nullptr);
        return error_;
    }

private:
    T* ptr_;
    E error_{};
};

template <typename E>
class [[nodiscard]] Result<void, E> {
public:
    constexpr Result() = default;
    // NOLINTNEXTLINE(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(Err<E> e) : ok_(false), error_(std::move(e.error)) {}

    [[nodiscard]] constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    [[nodiscard]] constexpr const E& error() const {
        RVM_ASSERT(!ok_);
        return error_;
    }

private:
    bool ok_ = true;
    E error_{};
};

}  // namespace rvm

// Propagates the error of a Result<void, E>-returning expression.
#define RVM_TRY_VOID(expr)                                           \
    do {                                                             \
        auto rvm_try_r_ = (expr);                                    \
        if (!rvm_try_r_.ok()) return ::rvm::err(rvm_try_r_.error()); \
    } while (0)
