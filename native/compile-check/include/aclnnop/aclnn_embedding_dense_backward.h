/* AscendJ compile check: declarations written by the AscendJ authors from the documented
 * signatures. Not a CANN header; never shipped or linked. */
#ifndef ASCENDJ_COMPILE_CHECK_ACLNN_EMBEDDING_DENSE_BACKWARD_H
#define ASCENDJ_COMPILE_CHECK_ACLNN_EMBEDDING_DENSE_BACKWARD_H

#include "aclnn/aclnn_base.h"

#ifdef __cplusplus
extern "C" {
#endif

aclnnStatus aclnnEmbeddingDenseBackwardGetWorkspaceSize(const aclTensor *grad, const aclTensor *indices, uint64_t numWeights, uint64_t paddingIdx, bool scaleGradByFreq, const aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnEmbeddingDenseBackward(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
