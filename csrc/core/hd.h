// FUSEDNN_HD marks functions written once for the host and the CUDA device (the shared *_ops.h headers).
#pragma once

#ifdef __CUDACC__
#define FUSEDNN_HD __host__ __device__
#else
#define FUSEDNN_HD
#endif
