// Audit: (to come).
screens.audit = async () => {};
