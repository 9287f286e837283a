/* AscendJ compile check: declarations written by the AscendJ authors. Not a MindSpore header. */
#ifndef ASCENDJ_COMPILE_CHECK_MS_TYPES_H
#define ASCENDJ_COMPILE_CHECK_MS_TYPES_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "include/api/data_type.h"

namespace mindspore {
enum ModelType : uint32_t { kMindIR = 0, kAIR = 1, kOM = 2, kONNX = 3, kMindIR_Lite = 4, kUnknownType = 0xFFFFFFFF };

class MSTensor {
 public:
    static MSTensor *CreateTensor(const std::string &name, DataType type, const std::vector<int64_t> &shape,
                                  const void *data, size_t data_len) noexcept;
    static void DestroyTensorPtr(MSTensor *tensor) noexcept;

    MSTensor();
    MSTensor(const MSTensor &other);
    ~MSTensor();

    std::string Name() const;
    enum DataType DataType() const;
    const std::vector<int64_t> &Shape() const;
    int64_t ElementNum() const;
    void *MutableData();
    size_t DataSize() const;
    void SetShape(const std::vector<int64_t> &shape);
    MSTensor *Clone() const;
};
}  // namespace mindspore
#endif
