// Profile: (to come).
screens.profile = async () => {};
