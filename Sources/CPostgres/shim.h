#ifndef CPOSTGRES_SHIM_H
#define CPOSTGRES_SHIM_H
#include <libpq-fe.h>

/* Field codes of PQresultErrorField are character macros Swift cannot import. */
static inline int cpq_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int cpq_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int cpq_diag_message_detail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int cpq_diag_message_hint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int cpq_diag_context(void) { return PG_DIAG_CONTEXT; }
static inline int cpq_diag_severity(void) { return PG_DIAG_SEVERITY; }
static inline int cpq_diag_severity_nonlocalized(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
#endif
