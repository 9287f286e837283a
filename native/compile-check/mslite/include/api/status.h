/* AscendJ compile check: declarations written by the AscendJ authors. Not a MindSpore header. */
#ifndef ASCENDJ_COMPILE_CHECK_MS_STATUS_H
#define ASCENDJ_COMPILE_CHECK_MS_STATUS_H

#include <cstdint>
#include <string>

namespace mindspore {
enum StatusCode : uint32_t { kSuccess = 0, kCoreFailed = 0x1 };

class Status {
 public:
    Status();
    Status(const Status &other);
    ~Status();
    enum StatusCode StatusCode() const;
    std::string ToString() const;
};
}  // namespace mindspore
#endif
