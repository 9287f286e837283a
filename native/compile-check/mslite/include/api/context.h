/* AscendJ compile check: declarations written by the AscendJ authors. Not a MindSpore header. */
#ifndef ASCENDJ_COMPILE_CHECK_MS_CONTEXT_H
#define ASCENDJ_COMPILE_CHECK_MS_CONTEXT_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "include/api/types.h"

namespace mindspore {
enum DeviceType {
    kCPU = 0, kGPU, kKirinNPU, kAscend, kAscend910, kAscend310, kInvalidDeviceType = 100
};

class DeviceInfoContext;

class Context {
 public:
    Context();
    void SetThreadNum(int32_t thread_num);
    int32_t GetThreadNum() const;
    void SetEnableParallel(bool is_parallel);
    std::vector<std::shared_ptr<DeviceInfoContext> > &MutableDeviceInfo();
};

class DeviceInfoContext : public std::enable_shared_from_this<DeviceInfoContext> {
 public:
    DeviceInfoContext();
    virtual ~DeviceInfoContext();
    virtual enum DeviceType GetDeviceType() const = 0;
    std::string GetProvider() const;
    void SetProvider(const std::string &provider);
};

class CPUDeviceInfo : public DeviceInfoContext {
 public:
    enum DeviceType GetDeviceType() const override;
    void SetEnableFP16(bool is_fp16);
    bool GetEnableFP16() const;
};

class AscendDeviceInfo : public DeviceInfoContext {
 public:
    enum DeviceType GetDeviceType() const override;
    void SetDeviceID(uint32_t device_id);
    uint32_t GetDeviceID() const;
    void SetRankID(uint32_t rank_id);
    uint32_t GetRankID() const;
    void SetInputFormat(const std::string &format);
};
}  // namespace mindspore
#endif
