// The BLAS surface Attend uses: CBLAS sgemm plus OpenBLAS's thread and build queries.
#include <cblas.h>
