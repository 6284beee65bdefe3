#pragma once
// Reads byte ranges of a file through a 1 MiB window filled by pread(): the
// header walkers touch ~100 bytes per frame, and an fseek()+fread() per
// header (each a syscall and a 4 KiB refill) was most of their cost.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace activediff::detail {

class ReadWindow {
 public:
  explicit ReadWindow(int fd) : fd_(fd), buffer_(kWindowBytes) {}
  // Copies bytes [offset, offset + n) into out; false on a short read.
  bool read(std::int64_t offset, void* out, std::size_t n) {
    if (offset < start_ || offset + static_cast<std::int64_t>(n) > start_ + length_) {
      if (n > buffer_.size()) buffer_.resize(n);
      const ssize_t got = ::pread(fd_, buffer_.data(), buffer_.size(), offset);
      if (got < 0) return false;
      start_ = offset;
      length_ = got;
      if (static_cast<std::size_t>(got) < n) return false;
    }
    std::memcpy(out, buffer_.data() + (offset - start_), n);
    return true;
  }

 private:
  static constexpr std::size_t kWindowBytes = 1 << 20;
  int fd_;
  std::vector<unsigned char> buffer_;
  std::int64_t start_ = 0;
  std::int64_t length_ = 0;
};

}  // namespace activediff::detail
