// Invitations: (to come).
screens.invitations = async () => {};
