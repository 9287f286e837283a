/* AscendJ compile check: declarations written by the AscendJ authors. Not a MindSpore header. */
#ifndef ASCENDJ_COMPILE_CHECK_MS_MODEL_H
#define ASCENDJ_COMPILE_CHECK_MS_MODEL_H

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "include/api/context.h"
#include "include/api/status.h"
#include "include/api/types.h"

namespace mindspore {
struct MSCallBackParam;
using MSKernelCallBack = std::function<bool(const std::vector<MSTensor> &, const std::vector<MSTensor> &,
                                            const MSCallBackParam &)>;

class Model {
 public:
    Model();
    ~Model();
    Model(const Model &) = delete;
    void operator=(const Model &) = delete;

    Status Build(const void *model_data, size_t data_size, ModelType model_type,
                 const std::shared_ptr<Context> &model_context = nullptr);
    Status Build(const std::string &model_path, ModelType model_type,
                 const std::shared_ptr<Context> &model_context = nullptr);
    Status Predict(const std::vector<MSTensor> &inputs, std::vector<MSTensor> *outputs,
                   const MSKernelCallBack &before = nullptr, const MSKernelCallBack &after = nullptr);
    std::vector<MSTensor> GetInputs();
    std::vector<MSTensor> GetOutputs();
    MSTensor GetInputByTensorName(const std::string &tensor_name);
    MSTensor GetOutputByTensorName(const std::string &tensor_name);
};
}  // namespace mindspore
#endif
