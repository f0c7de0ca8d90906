#ifndef CARCHIVE_SHIM_H
#define CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* The file type macros are casts Swift cannot import: one function each. */
static inline unsigned int carchive_ifreg(void) { return (unsigned int)AE_IFREG; }
static inline unsigned int carchive_ifdir(void) { return (unsigned int)AE_IFDIR; }
static inline unsigned int carchive_iflnk(void) { return (unsigned int)AE_IFLNK; }
#endif
