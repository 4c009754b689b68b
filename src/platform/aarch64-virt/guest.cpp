#include "platform/aarch64-virt/guest.hpp"

#include "platform/aarch64-virt/hw.hpp"

namespace rvm::bm {

bool guest_read(const Guest& g, std::uint64_t ipa, std::span<std::uint8_t> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const std::uint64_t a = ipa + done;
        if (a < ipa) return false;  // wrapped
        const std::uint64_t pa = g.s2.translate(a, false);
        if (pa == 0) return false;
        const std::size_t in_page = static_cast<std::size_t>(4096 - (a & 4095));
        const std::size_t n = in_page < out.size() - done ? in_page : out.size() - done;
        // SAFETY: `pa` is partition memory the partition may read (stage-2
        // checked above), identity-mapped at EL2; the copy stays in its page.
        const auto* src = phys<const std::uint8_t>(pa);
        for (std::size_t i = 0; i < n; ++i) out[done + i] = src[i];
        done += n;
    }
    return true;
}

}  // namespace rvm::bm
