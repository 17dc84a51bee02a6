// Private shim: CBLAS from OpenBLAS (Debian's libopenblas-dev), used only by Sources/Backprop/Backend.
#include <cblas.h>
