// Pool<T, N>: a fixed-capacity table of kernel objects with generational
// handles (NOVA kobject / Bao objpool). Allocation takes the lowest free slot,
// so the same sequence of operations yields the same handles: replay of the
// witness log depends on it. Exhaustion is a status, not a crash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "nucleus/assert.hpp"
#include "nucleus/handle.hpp"

namespace rvm {

template <typename T, typename Tag, std::size_t N>
class Pool {
    static_assert(N > 0 && N < (1u << 24), "pool capacity");

public:
    using Id = Handle<Tag>;

    Pool() = default;

    // Returns the handle of a new default-constructed object, or nullopt when full.
    [[nodiscard]] std::optional<Id> allocate() {
        for (std::uint32_t i = 0; i < N; ++i) {
            Slot& s = slots_[i];
            if (!s.live) {
                s.live = true;
                s.generation = next_generation(s.generation);
                s.value = T{};
                ++live_;
                return Id{i, s.generation};
            }
        }
        return std::nullopt;
    }

    // Frees a live object; its handle becomes stale. Returns false on a stale handle.
    bool release(Id id) {
        Slot* s = slot(id);
        if (s == nullptr) return false;
        s->live = false;
        s->value = T{};
        --live_;
        return true;
    }

    [[nodiscard]] T* get(Id id) {
        Slot* s = slot(id);
        return s == nullptr ? nullptr : &s->value;
    }
    [[nodiscard]] const T* get(Id id) const {
        const Slot* s = slot(id);
        return s == nullptr ? nullptr : &s->value;
    }
    // For handles the caller has just allocated or validated.
    [[nodiscard]] T& at(Id id) {
        Slot* s = slot(id);
        RVM_ASSERT(s != nullptr);
        return s->value;
    }
    [[nodiscard]] bool contains(Id id) const { return slot(id) != nullptr; }
    [[nodiscard]] std::size_t live() const { return live_; }
    [[nodiscard]] static constexpr std::size_t capacity() { return N; }

    // Iteration over live objects: f(Id, T&).
    template <typename F>
    void for_each(F&& f) {
        for (std::uint32_t i = 0; i < N; ++i) {
            if (slots_[i].live) f(Id{i, slots_[i].generation}, slots_[i].value);
        }
    }
    template <typename F>
    void for_each(F&& f) const {
        for (std::uint32_t i = 0; i < N; ++i) {
            if (slots_[i].live) f(Id{i, slots_[i].generation}, slots_[i].value);
        }
    }

    friend bool operator==(const Pool&, const Pool&) = default;

private:
    struct Slot {
        T value{};
        std::uint32_t generation = 0;
        bool live = false;
        friend bool operator==(const Slot&, const Slot&) = default;
    };

    static constexpr std::uint32_t next_generation(std::uint32_t g) {
        // Generation 0 is the null handle; wrap past it.
        return g >= kMaxGeneration ? 1u : g + 1u;
    }
    Slot* slot(Id id) {
        if (id.index >= N || id.generation == 0) return nullptr;
        Slot& s = slots_[id.index];
        return (s.live && s.generation == id.generation) ? &s : nullptr;
    }
    const Slot* slot(Id id) const {
        if (id.index >= N || id.generation == 0) return nullptr;
        const Slot& s = slots_[id.index];
        return (s.live && s.generation == id.generation) ? &s : nullptr;
    }

    std::array<Slot, N> slots_{};
    std::size_t live_ = 0;
};

}  // namespace rvm
