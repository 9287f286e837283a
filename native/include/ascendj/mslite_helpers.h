/*
 * Copyright 2026 the AscendJ authors. Licensed under the Apache License, Version 2.0.
 *
 * Small helpers that the MindSpore Lite JNI glue needs: JavaCPP hands a shared_ptr of the concrete
 * device-info class, and adding it to Context::MutableDeviceInfo() needs the derived-to-base
 * conversion that one C++ expression can do here but not in generated glue.
 */
#ifndef ASCENDJ_MSLITE_HELPERS_H
#define ASCENDJ_MSLITE_HELPERS_H

#include <memory>
#include <vector>
#include "include/api/context.h"

namespace ascendj {

inline void AppendDeviceInfo(std::vector<std::shared_ptr<mindspore::DeviceInfoContext> > &devices,
                             const std::shared_ptr<mindspore::AscendDeviceInfo> &info) {
    devices.push_back(info);
}

inline void AppendDeviceInfo(std::vector<std::shared_ptr<mindspore::DeviceInfoContext> > &devices,
                             const std::shared_ptr<mindspore::CPUDeviceInfo> &info) {
    devices.push_back(info);
}

}  // namespace ascendj

#endif
