/* AscendJ compile check: declarations written by the AscendJ authors. Not a CANN header. */
#ifndef ASCENDJ_COMPILE_CHECK_ACLNN_BASE_H
#define ASCENDJ_COMPILE_CHECK_ACLNN_BASE_H

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

aclnnStatus aclnnInit(const char *configPath);
aclnnStatus aclnnFinalize();

#ifdef __cplusplus
}
#endif
#endif
