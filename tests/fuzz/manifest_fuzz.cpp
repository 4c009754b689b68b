// libFuzzer target: hostile manifest text. parse_manifest must answer with a
// manifest or a message, never crash, and what it accepts must be in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "host/config/manifest.hpp"
#include "nucleus/assert.hpp"

namespace {

// A scratch directory with one agent file, so inputs can reach past the
// file-system checks; removed at exit (and left behind by a crash).
class ScratchDir {
public:
    ScratchDir() {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp != nullptr ? tmp : "/tmp") + "/rvm-manifest-fuzz-XXXXXX";
        const char* made = ::mkdtemp(tmpl.data());
        RVM_ASSERT(made != nullptr);
        path_ = tmpl;
        std::ofstream(path_ + "/a") << "agent";
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

const std::string& base_dir() {
    static const ScratchDir dir;
    return dir.path();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(data, data + size);
    const auto r = rvm::host::parse_manifest(text, "fuzz.toml", base_dir());
    if (!r.ok()) {
        const std::string_view msg = r.error().message();
        RVM_ASSERT(msg.size() < rvm::host::ManifestError::kCapacity);
        RVM_ASSERT(msg.starts_with("fuzz.toml"));
        return 0;
    }
    const rvm::host::Manifest& m = r.value();
    RVM_ASSERT(!m.partitions.empty() && m.partitions.size() <= rvm::host::kManifestMaxPartitions);
    for (const rvm::host::PartitionSpec& p : m.partitions) {
        RVM_ASSERT(rvm::host::validate(p).ok());
        RVM_ASSERT(p.tasks >= 1 && p.tasks <= p.max_tasks && p.max_tasks <= rvm::host::kSpecMaxTasks);
        RVM_ASSERT(p.memory % 4096 == 0 && p.stack_size % 4096 == 0);
        RVM_ASSERT(p.wall_time_ns <= static_cast<std::uint64_t>(m.run.wall_time.count()) * 1'000'000 &&
                   p.wall_time_ns > 0);
    }
    return 0;
}
