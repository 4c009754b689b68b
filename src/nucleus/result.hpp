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
    return Err<E>{e};
}

template <typename T, typename E>
class [[nodiscard]] Result {
    static_assert(std::is_trivially_copyable_v<E>, "errors are small values");

public:
    constexpr Result(T value) : ok_(true) { ::new (&value_) T(std::move(value)); }  // NOLINT(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(Err<E> e) : ok_(false) { error_ = e.error; }                 // NOLINT(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(const Result& o) : ok_(o.ok_) {
        if (ok_) {
            ::new (&value_) T(o.value_);
        } else {
            error_ = o.error_;
        }
    }
    Result& operator=(const Result&) = delete;
    constexpr ~Result() {
        if (ok_) value_.~T();
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
    [[nodiscard]] constexpr E error() const {
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
    constexpr Result(T& value) : ptr_(&value) {}                         // NOLINT(google-explicit-constructor): deviations.md#result-implicit
    constexpr Result(Err<E> e) : ptr_(nullptr), error_(e.error) {}       // NOLINT(google-explicit-constructor): deviations.md#result-implicit

    [[nodiscard]] constexpr bool ok() const { return ptr_ != nullptr; }
    constexpr explicit operator bool() const { return ok(); }
    [[nodiscard]] constexpr T& value() const {
        RVM_ASSERT(ptr_ != nullptr);
        return *ptr_;
    }
    [[nodiscard]] constexpr E error() const {
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
    constexpr Result(Err<E> e) : ok_(false), error_(e.error) {}  // NOLINT(google-explicit-constructor): deviations.md#result-implicit

    [[nodiscard]] constexpr bool ok() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }
    [[nodiscard]] constexpr E error() const {
        RVM_ASSERT(!ok_);
        return error_;
    }

private:
    bool ok_ = true;
    E error_{};
};

}  // namespace rvm

// Propagate an error: `RVM_TRY(x, expr);` declares `x` from a successful
// Result or returns its error. `RVM_TRY_VOID(expr);` for Result<void>.
#define RVM_CONCAT_IMPL(a, b) a##b
#define RVM_CONCAT(a, b) RVM_CONCAT_IMPL(a, b)
#define RVM_TRY_VOID(expr)                                          \
    do {                                                            \
        auto rvm_try_r_ = (expr);                                   \
        if (!rvm_try_r_.ok()) return ::rvm::err(rvm_try_r_.error()); \
    } while (0)
