/* AscendJ compile check: declarations written by the AscendJ authors from the documented
 * signatures. Not a CANN header; never shipped or linked. */
#ifndef ASCENDJ_COMPILE_CHECK_ACLNN_RMS_NORM_H
#define ASCENDJ_COMPILE_CHECK_ACLNN_RMS_NORM_H

#include "aclnn/aclnn_base.h"

#ifdef __cplusplus
extern "C" {
#endif

aclnnStatus aclnnRmsNormGetWorkspaceSize(const aclTensor *x, const aclTensor *gamma, double epsilon, const aclTensor *yOut, const aclTensor *rstdOut, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus aclnnRmsNorm(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor, aclrtStream stream);

#ifdef __cplusplus
}
#endif
#endif
