/*
 * AscendJ compile check: declarations of the MindSpore Lite C++ API that AscendJ binds, written by
 * the AscendJ authors. Not a MindSpore header: declarations only, never shipped or linked.
 */
#ifndef ASCENDJ_COMPILE_CHECK_MS_DATA_TYPE_H
#define ASCENDJ_COMPILE_CHECK_MS_DATA_TYPE_H

#include <cstdint>

namespace mindspore {
enum class DataType : int {
    kTypeUnknown = 0,
    kObjectTypeString = 12,
    kNumberTypeBool = 30,
    kNumberTypeInt8 = 32,
    kNumberTypeInt16 = 33,
    kNumberTypeInt32 = 34,
    kNumberTypeInt64 = 35,
    kNumberTypeUInt8 = 37,
    kNumberTypeUInt16 = 38,
    kNumberTypeUInt32 = 39,
    kNumberTypeUInt64 = 40,
    kNumberTypeFloat16 = 42,
    kNumberTypeFloat32 = 43,
    kNumberTypeFloat64 = 44,
    kInvalidType = INT32_MAX
};
}  // namespace mindspore
#endif
