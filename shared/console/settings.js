// Settings: (to come).
screens.settings = async () => {};
