// Invite: (to come).
