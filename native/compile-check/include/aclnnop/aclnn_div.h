/* AscendJ compile check: declarations written by the AscendJ authors from the documented
 * signatures. Not a CANN header; never shipped or linked. */
#ifndef ASCENDJ_COMPILE_CHECK_ACLNN_DIV_H
#define ASCENDJ_COMPILE_CHECK_ACLNN_DIV_H

#include "aclnn/aclnn_base.h"

#ifdef __cplusplus
extern "C" {
#endif

aclnnStatus aclnnDivGetWorkspaceSize(const aclTensor *self, const aclTensor *other, aclTensor *out, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnDiv(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
