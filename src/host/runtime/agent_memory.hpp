// AgentMemory: the layout of an agent partition's guest memory (abi/agent.h)
// and the one place where a guest pointer and length become host bytes. Every
// range an agent passes is checked against the mappings it really has:
// readable (any user mapping) or writable (R+W mappings only), overflow-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "nucleus/syscalls.hpp"

namespace rvm::host {

struct AgentLayout {
    std::uint64_t memory = 0;      // guest-visible bytes [0, memory)
    std::uint64_t stack_size = 0;  // per task
    std::uint32_t max_tasks = 0;
    std::uint64_t image_start = 0, image_end = 0;  // page-rounded ELF extent
    std::uint64_t table_base = 0, table_end = 0;   // page tables, above `memory`, unmapped
    std::uint64_t tss_gpa = 0;                     // one page after the tables

    [[nodiscard]] std::uint64_t stack_region() const { return memory - stack_size * max_tasks; }
    [[nodiscard]] std::uint64_t stack_top(std::uint32_t task) const { return memory - stack_size * task; }
    [[nodiscard]] std::uint64_t heap_start() const { return image_end; }
    [[nodiscard]] std::uint64_t heap_end() const { return stack_region(); }
    [[nodiscard]] std::uint64_t ram_size() const { return tss_gpa + 4096; }
};

struct GuestRange {
    std::uint64_t start = 0, end = 0;  // [start, end)
    bool writable = false;
    bool executable = false;
};

class AgentMemory final : public GuestMemory {
public:
    AgentMemory(std::span<std::uint8_t> ram, std::vector<GuestRange> ranges);

    // Bytes of [gpa, gpa + len) if every byte lies in mapped guest memory
    // (writable mappings only when `write`); empty span with ok=false otherwise.
    struct View {
        bool ok = false;
        std::span<std::uint8_t> bytes;
    };
    [[nodiscard]] View view(std::uint64_t gpa, std::uint64_t len, bool write) const;

    // GuestMemory (the nucleus's reads of proof tokens). The partition id is
    // not needed: this object belongs to exactly one partition.
    [[nodiscard]] bool read(PartitionId, std::uint64_t gpa, std::span<std::uint8_t> out) const override;

    // Is `va` inside an executable mapping (a valid task entry point)?
    [[nodiscard]] bool executable(std::uint64_t va) const;

    [[nodiscard]] std::span<std::uint8_t> ram() const { return ram_; }

private:
    std::span<std::uint8_t> ram_;
    std::vector<GuestRange> ranges_;  // sorted, non-overlapping
};

}  // namespace rvm::host
